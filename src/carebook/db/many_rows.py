"""INSERT of many plain rows (tuples) in one statement per batch, on either database.

For the tables written a thousand rows at a time: the search tokens and the blocking keys of an
import batch or a re-index, and on PostgreSQL an import batch's new users. A Core
``execute(insert(table), [dicts])`` processes every parameter of every row in Python first
(SQLAlchemy's ``construct_params``: about a tenth of an import's time on SQLite); here the
driver gets the values as they are:

- SQLite: the driver's ``executemany`` of the compiled INSERT, with the rows as tuples (for
  columns whose values need no conversion by their types: integers, text, booleans);
- PostgreSQL: one ``INSERT ... SELECT * FROM unnest($1::int4[], $2::text[], ...)`` with one
  array per column, each value through its column type's bind processor (a ``UTCDateTime``'s
  check, for one): one statement the server parses, plans and runs once, instead of one bound
  execution per row (asyncpg's executemany), which cost PostgreSQL several times more. One
  statement also fires a statement-level trigger once (the users' counters, migration 0038),
  where executemany fires it once per row.

Both are ordinary INSERTs in the caller's transaction: triggers, constraints and rollback behave
as for any other write. Works the same with the fast paths off (it is plain SQLAlchemy).
"""

from __future__ import annotations

import functools
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
    insert,
)
from sqlalchemy.engine import Connection, Dialect

# Rows per statement: SQLite's executemany has no limit; PostgreSQL's arrays neither, but a
# bounded statement keeps memory flat.
BATCH = 10_000


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
    found = ((n, table.c[name].type.bind_processor(dialect)) for n, name in enumerate(columns))
    return tuple((n, processor) for n, processor in found if processor is not None)


@functools.cache
def _statement(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    target = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        arrays = ", ".join(
            f"${n}::{_array_type(table.c[name].type)}[]" for n, name in enumerate(columns, 1)
        )
        return f"INSERT INTO {target} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
    compiled = (
        insert(table).values({name: bindparam(name) for name in columns}).compile(dialect=dialect)
    )
    if not compiled.positional or list(compiled.positiontup or ()) != list(columns):
        raise TypeError(f"{dialect.name}: the INSERT's parameters are not positional in order")
    return compiled.string


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (each a tuple of ``columns``' values, in that order) into ``table``."""
    if not rows:
        return
    key = tuple(columns)
    sql = _statement(table, key, connection.dialect)
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        if connection.dialect.name == "postgresql":
            arrays = [list(values) for values in zip(*chunk, strict=True)]
            for n, processor in _processors(table, key, connection.dialect):
                arrays[n] = [processor(value) for value in arrays[n]]
            connection.exec_driver_sql(sql, tuple(arrays))
        else:
            connection.exec_driver_sql(sql, list(chunk))


def insert_mappings(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (each a mapping of the same column names to values) into ``table``.

    For rows whose values need their types' conversions on SQLite too (date-times): there they
    go through Core's executemany, which applies them; on PostgreSQL through :func:`insert_rows`
    (one statement, the same conversions by bind processor).
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    columns = tuple(rows[0])
    insert_rows(connection, table, columns, [tuple(row[name] for name in columns) for row in rows])
