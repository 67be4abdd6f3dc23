"""A batch of rows appended to one table as one statement, without the ORM or Core's per-row work.

Moved here from ``carebook.audit.bulk``: it is the read audit trail's path, but it knows nothing
of audit events; the caller hands the table in (carebook.db imports no domain package).

Storing read events cost more than a third of a ``user(id)`` request's CPU through Core's
executemany (PostgreSQL: BEGIN, an INSERT per row and COMMIT; SQLite: the statement's parameter
processing per row). Here the SQL is built once per table and the rows go to the driver as plain
values, each column processed once as Core processes it (a ``UTCDateTime`` refuses naive times
and stores SQLite's text form):
- PostgreSQL: ``INSERT ... VALUES`` with a parameter per value for a batch of up to
  ``VALUES_ROWS`` rows, else ``INSERT ... SELECT * FROM unnest($1::type[], ...)``, one array per
  column: one statement and one round trip for the whole batch, atomic on its own
  (AUTOCOMMIT), sent straight to asyncpg on the connection the process holds for the trail
  (carebook.db.held);
- SQLite: one ``executemany`` of tuples on the trail's own connection (its transaction is the
  one ``carebook.db.sqlite_batches`` opens with BEGIN IMMEDIATE).
Neither goes through the engines' events: their statements are told to the held connections'
observers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect

from carebook.db.held import HeldConnection
from carebook.db.sqlite_batches import Statements

Row = Mapping[str, Any]

# The largest batch sent as rows of parameters (one statement text, prepared once per
# connection, for each size up to this; asyncpg keeps 100 by default).
VALUES_ROWS = 32


class TrailInsert:
    """The batch INSERT of one table for one dialect, built once (per Database)."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        # Every column but the id, which the database assigns; rows give them all.
        columns = [column for column in table.columns if not column.primary_key]
        self.columns: tuple[str, ...] = tuple(column.name for column in columns)
        self._processors: tuple[Callable[[Any], Any] | None, ...] = tuple(
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns
        )
        if dialect.name == "postgresql":
            types = tuple(column.type.compile(dialect=dialect) for column in columns)
            arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(types, start=1))
            # Names and types come from the table's definition, never from input.
            names = ", ".join(self.columns)
            self.sql = f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
            self._into = f"INSERT INTO {table.name} ({names}) VALUES "  # noqa: S608
            # Each value cast as each array is: an explicit cast to VARCHAR(n) cuts a longer
            # text short where assigning it would fail the whole batch (an alias, which a
            # client chooses, can name a read's operation).
            self._types = types
        else:
            self.sql = str(insert(table).compile(dialect=dialect, column_keys=list(self.columns)))
        self._values_sql: dict[int, str] = {}

    def values_sql(self, count: int) -> str:
        """PostgreSQL: ``INSERT ... VALUES`` of ``count`` rows, one parameter per value (built
        once per count, as asyncpg prepares it once per text)."""
        found = self._values_sql.get(count)
        if found is None:
            width = len(self.columns)
            rows = (
                "("
                + ", ".join(
                    f"${row * width + n}::{kind}" for n, kind in enumerate(self._types, start=1)
                )
                + ")"
                for row in range(count)
            )
            found = self._values_sql[count] = self._into + ", ".join(rows)
        return found

    def arrays(self, rows: Sequence[Row]) -> tuple[list[Any], ...]:
        """The rows as one list per column (PostgreSQL's unnest)."""
        return tuple(
            [row[name] for row in rows] if process is None else [process(row[name]) for row in rows]
            for name, process in zip(self.columns, self._processors, strict=True)
        )

    def values(self, rows: Sequence[Row]) -> list[Any]:
        """:meth:`tuples` one after the other (PostgreSQL's :meth:`values_sql`)."""
        return [value for row in self.tuples(rows) for value in row]

    def tuples(self, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
        """The rows as tuples in the columns' order (SQLite's executemany)."""
        pairs = tuple(zip(self.columns, self._processors, strict=True))
        return [
            tuple(row[name] if process is None else process(row[name]) for name, process in pairs)
            for row in rows
        ]


async def insert_postgres(
    trail: HeldConnection, statement: TrailInsert, rows: Sequence[Row]
) -> None:
    """Insert ``rows`` with one statement, its own transaction (the engine autocommits).

    A batch of a few rows (a read's own, a page's ten, a few requests' together: nearly every
    batch) goes as one row of parameters each; asyncpg checks every element of an array against
    three abstract base classes as it encodes it, which cost a ``user(id)`` about 2 % of its CPU
    and a page of ten 4 %. A larger batch goes as one array per column to unnest: one text and
    one prepared statement whatever its size, within PostgreSQL's 65,535 parameters.
    """
    if len(rows) > VALUES_ROWS:
        await trail.execute(statement.sql, *statement.arrays(rows))
    elif rows:
        await trail.execute(statement.values_sql(len(rows)), *statement.values(rows))


def insert_sqlite(statements: Statements, statement: TrailInsert, rows: Sequence[Row]) -> None:
    """Insert ``rows`` in the batch's open transaction (one executemany of tuples)."""
    if rows:
        statements.executemany(statement.sql, statement.tuples(rows))
