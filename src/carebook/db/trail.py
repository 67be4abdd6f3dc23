"""A batch of rows appended to one table as one statement, without the ORM or Core's per-row work.

Moved here from ``carebook.audit.bulk``: it is the read audit trail's path, but it knows nothing
of audit events; the caller hands the table in (carebook.db imports no domain package).

Storing read events cost more than a third of a ``user(id)`` request's CPU through Core's
executemany (PostgreSQL: BEGIN, an INSERT per row and COMMIT; SQLite: the statement's parameter
processing per row). Here the SQL is built once per table and the rows go to the driver as plain
values, each column processed once as Core processes it (a ``UTCDateTime`` refuses naive times
and stores SQLite's text form):
- PostgreSQL: ``INSERT ... SELECT * FROM unnest($1::type[], ...)``, one array per column: one
  statement and one round trip for the whole batch, atomic on its own (AUTOCOMMIT), sent
  straight to asyncpg on the connection the process holds for the trail (carebook.db.held);
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
            arrays = ", ".join(
                f"${n}::{column.type.compile(dialect=dialect)}[]"
                for n, column in enumerate(columns, start=1)
            )
            # Names and types come from the table's definition, never from input.
            names = ", ".join(self.columns)
            self.sql = f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
            # A batch of one row (a read's, whenever no other read's batch was open): its
            # values as they are. asyncpg checks every element of every array against three
            # abstract base classes as it encodes them (about 2 % of a ``user(id)``'s CPU).
            values = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
            self.one_sql = f"INSERT INTO {table.name} ({names}) VALUES ({values})"  # noqa: S608
        else:
            self.sql = str(insert(table).compile(dialect=dialect, column_keys=list(self.columns)))
            self.one_sql = self.sql  # already one row's VALUES

    def arrays(self, rows: Sequence[Row]) -> tuple[list[Any], ...]:
        """The rows as one list per column (PostgreSQL's unnest)."""
        return tuple(
            [row[name] for row in rows] if process is None else [process(row[name]) for row in rows]
            for name, process in zip(self.columns, self._processors, strict=True)
        )

    def values(self, row: Row) -> list[Any]:
        """One row's values in the columns' order, processed as :meth:`arrays` does."""
        return [
            row[name] if process is None else process(row[name])
            for name, process in zip(self.columns, self._processors, strict=True)
        ]

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
    """Insert ``rows`` with one statement, its own transaction (the engine autocommits)."""
    if len(rows) == 1:
        await trail.execute(statement.one_sql, *statement.values(rows[0]))
    elif rows:
        await trail.execute(statement.sql, *statement.arrays(rows))


def insert_sqlite(statements: Statements, statement: TrailInsert, rows: Sequence[Row]) -> None:
    """Insert ``rows`` in the batch's open transaction (one executemany of tuples)."""
    if rows:
        statements.executemany(statement.sql, statement.tuples(rows))
