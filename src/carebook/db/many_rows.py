"""INSERT of many plain rows (tuples) in one statement per batch, on either database.

For the tables written a thousand rows at a time: the search tokens and the blocking keys of an
import batch or a re-index, and on PostgreSQL an import batch's new users. A Core
``execute(insert(table), [dicts])`` processes every parameter of every row in Python first
(SQLAlchemy's ``construct_params``: about a tenth of an import's time on SQLite); here the
driver gets the values as they are:

- SQLite: the driver's ``executemany`` of the compiled INSERT, with the rows as tuples (as they
  are for integers, text and booleans; through their types' bind processors for date-times,
  :func:`insert_mappings`' rows: the audit trail's and the events' of a bulk write);
- PostgreSQL: one ``INSERT ... SELECT * FROM unnest($1::int4[], $2::text[], ...)`` with one
  array per column, each value through its column type's bind processor (a ``UTCDateTime``'s
  check, for one), a column whose value is the same in every row as that one value instead
  (``SELECT $1::int4, u.c2 FROM unnest($2::text[]) AS u(c2)``): one statement the server
  parses, plans and runs once, instead of one bound execution per row (asyncpg's
  executemany), which cost PostgreSQL several times more. One
  statement also fires a statement-level trigger once (the users' counters, migration 0038),
  where executemany fires it once per row.

Both are ordinary INSERTs in the caller's transaction: triggers, constraints and rollback behave
as for any other write. Works the same with the fast paths off (it is plain SQLAlchemy).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    TypeDecorator,
    bindparam,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect

# Rows per statement: SQLite's executemany has no limit; PostgreSQL's arrays neither, but a
# bounded statement keeps memory flat.
BATCH = 10_000
# No value: what _through compares the first value with.
_NOTHING = object()


def _array_type(column_type: Any) -> str:
    """The PostgreSQL array type a column's values travel in (text for any string: the
    INSERT casts it to the column's own type and collation, refusing a value too long, where
    a cast to ``varchar(n)[]`` would cut it silently)."""
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, DateTime):
        return "timestamptz" if column_type.timezone else "timestamp"
    for kind, name in (
        (Boolean, "bool"),
        (SmallInteger, "int2"),
        (BigInteger, "int8"),
        (Integer, "int4"),
        (String, "text"),
        (Date, "date"),
        (Float, "float8"),
    ):
        if isinstance(column_type, kind):
            return name
    raise TypeError(f"no plain array type for {column_type!r}")


@functools.cache
def _processors(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """(position, bind processor) of the columns whose type converts its values."""
    # The dialect's implementation of the type, as compiled statements use it: a TypeDecorator's
    # own bind_processor wraps the generic type's, which on SQLite leaves a date-time for the
    # driver's default adapter (another text than SQLAlchemy's, microseconds dropped at 0).
    found = (
        (n, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for n, name in enumerate(columns)
    )
    return tuple((n, processor) for n, processor in found if processor is not None)


@functools.cache
def _statement(
    table: Table,
    columns: tuple[str, ...],
    dialect: Dialect,
    unique: tuple[str, ...] = (),
    shared: frozenset[int] = frozenset(),
) -> str:
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    target = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        sql = f"INSERT INTO {target} ({names}) {_unnest(table, columns, shared)}"
        if unique:
            keys = ", ".join(dialect.identifier_preparer.quote(name) for name in unique)
            sql += f" ON CONFLICT ({keys}) DO NOTHING"
        return sql
    statement = sqlite_insert(table).values({name: bindparam(name) for name in columns})
    if unique:
        statement = statement.on_conflict_do_nothing(index_elements=list(unique))
    compiled = statement.compile(dialect=dialect)
    if not compiled.positional or list(compiled.positiontup or ()) != list(columns):
        raise TypeError(f"{dialect.name}: the INSERT's parameters are not positional in order")
    return compiled.string


def _unnest(table: Table, columns: tuple[str, ...], shared: frozenset[int]) -> str:
    """PostgreSQL's SELECT of the rows: an array per column, or for the ``shared`` columns
    (positions) one value that every row takes. Parameter $n is always the n-th column's."""
    kinds = [_array_type(table.c[name].type) for name in columns]
    if not shared:
        arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(kinds, 1))
        return f"SELECT * FROM unnest({arrays})"  # noqa: S608
    varying = [n for n in range(len(columns)) if n not in shared]
    arrays = ", ".join(f"${n + 1}::{kinds[n]}[]" for n in varying)
    aliases = ", ".join(f"c{n + 1}" for n in varying)
    selected = ", ".join(
        f"${n + 1}::{kind}" if n in shared else f"u.c{n + 1}" for n, kind in enumerate(kinds)
    )
    return f"SELECT {selected} FROM unnest({arrays}) AS u({aliases})"  # noqa: S608


def _through(processor: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """One column's values through its type's bind processor. A value that is the very object
    of the one before it (a batch's one time stamp) reuses that one's conversion."""
    out: list[Any] = []
    last: Any = _NOTHING
    converted: Any = None
    for value in values:
        if value is not last:
            last, converted = value, processor(value)
        out.append(converted)
    return out


def _converted_columns(
    table: Table,
    columns: tuple[str, ...],
    dialect: Dialect,
    rows: Sequence[Sequence[Any]],
    shared: frozenset[int] = frozenset(),
) -> list[Any]:
    """``rows`` as one list per column, each value through its column type's bind processor;
    a column of ``shared`` (positions) as its first row's value alone."""
    arrays: list[Any] = [list(values) for values in zip(*rows, strict=True)]
    for n in shared:
        arrays[n] = arrays[n][0]
    for n, processor in _processors(table, columns, dialect):
        arrays[n] = processor(arrays[n]) if n in shared else _through(processor, arrays[n])
    return arrays


def _shared_columns(rows: Sequence[Sequence[Any]]) -> frozenset[int]:
    """The positions of the columns every row gives the same value (a batch's organization,
    time stamp, actor...), which PostgreSQL gets as that one value instead of an array:
    asyncpg encodes each array element in Python-level checks (about 0.7 us each), and a bulk
    write's 1,000 audit rows were 12 arrays of 1,000, of which 10 held one value. None for one
    row, or rows all alike (the plain arrays say how many rows there are)."""
    if len(rows) < 2:
        return frozenset()
    first = rows[0]
    shared = frozenset(
        n
        for n, values in enumerate(zip(*rows, strict=True))
        if values.count(first[n]) == len(values)
    )
    return shared if len(shared) < len(first) else frozenset()


def insert_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    convert: bool = False,
    skip_conflicts: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (each a tuple of ``columns``' values, in that order) into ``table``.

    PostgreSQL's arrays always go through the columns' bind processors; SQLite's rows only with
    ``convert`` (values that need it: date-times), as the driver takes integers, text and
    booleans as they are. ``skip_conflicts``: the columns of a unique constraint; a row that
    would break it (a row already there, or an earlier row of the same call) is skipped
    (``ON CONFLICT (...) DO NOTHING``), any other constraint still refuses the statement.
    """
    if not rows:
        return
    key, unique = tuple(columns), tuple(skip_conflicts)
    dialect = connection.dialect
    sql = _statement(table, key, dialect, unique)
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        if dialect.name == "postgresql":
            shared = _shared_columns(chunk)
            parameters = tuple(_converted_columns(table, key, dialect, chunk, shared))
            connection.exec_driver_sql(_statement(table, key, dialect, unique, shared), parameters)
        elif convert:
            arrays = _converted_columns(table, key, dialect, chunk)
            connection.exec_driver_sql(sql, list(zip(*arrays, strict=True)))
        else:
            connection.exec_driver_sql(sql, list(chunk))


@functools.cache
def _in_table_order(table: Table, names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` in the table's column order, the order its compiled INSERT binds them in (a
    name that is no column of the table raises KeyError)."""
    positions = {column.name: n for n, column in enumerate(table.c)}
    return tuple(sorted(names, key=positions.__getitem__))


def insert_mappings(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (each a mapping of the same column names to values) into ``table``, the
    values through their types' conversions on both databases (:func:`insert_rows`).

    Not Core's ``execute(insert(table), rows)``: on SQLite its executemany builds every row's
    parameters in SQLAlchemy's Python (``construct_params``), some 10 ms of a thousand-patient
    bulkUpdateClients' audit rows and events (issue 28). Rows must name every column that has
    a Python-side default: it is not applied here (PostgreSQL would leave the column to its
    server default, and SQLite's compiled INSERT binds it, which fails as out of order).
    """
    if not rows:
        return
    columns = _in_table_order(table, tuple(rows[0]))
    values = operator.itemgetter(*columns)  # a tuple of the row's values, when two or more
    tuples = [values(row) for row in rows] if len(columns) > 1 else [(r[columns[0]],) for r in rows]
    insert_rows(connection, table, columns, tuples, convert=True)
