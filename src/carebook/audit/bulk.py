"""The read trail's batches as one statement each, without the ORM or Core's per-row work.

Storing read events cost more than a third of a ``user(id)`` request's CPU through Core's
executemany (PostgreSQL: BEGIN, an INSERT per row and COMMIT; SQLite: the statement's parameter
processing per row). Here the SQL is built once from the table and the rows go to the driver
as plain values:
- PostgreSQL: ``INSERT ... SELECT * FROM unnest($1::type[], ...)``, one array per column: one
  statement and one round trip for the whole batch, atomic on its own (AUTOCOMMIT), sent
  straight to asyncpg on the connection the process holds for the trail (carebook.db.held);
- SQLite: one ``executemany`` of tuples on the trail's own connection (its transaction is the
  one ``carebook.db.sqlite_batches`` opens with BEGIN IMMEDIATE).
Neither goes through the engines' events: their statements are told to the held connections'
observers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite

from carebook.audit.models import AuditEvent
from carebook.audit.service import EventRow
from carebook.db.held import HeldConnection
from carebook.db.sqlite_batches import Statements

_TABLE = cast(Table, AuditEvent.__table__)
# Every column but the id, which the database assigns. Rows (built by event_rows) have them all.
COLUMNS: tuple[str, ...] = tuple(c.name for c in _TABLE.columns if not c.primary_key)


@cache
def postgres_statement() -> str:
    """The INSERT of one array per column, typed from the table's own column types."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays = ", ".join(
        f"${n}::{_TABLE.c[name].type.compile(dialect=dialect)}[]"
        for n, name in enumerate(COLUMNS, start=1)
    )
    # Names and types come from the table's definition, never from input.
    names = ", ".join(COLUMNS)
    return f"INSERT INTO {_TABLE.name} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608


@cache
def sqlite_statement() -> str:
    """The INSERT of one row of positional (``?``) parameters, in COLUMNS' order."""
    statement = insert(_TABLE).compile(dialect=sqlite.dialect(), column_keys=list(COLUMNS))
    return str(statement)


@cache
def _time_processor(dialect_name: str) -> Callable[[Any], Any]:
    """``occurred_at``'s own bind processing (UTCDateTime: aware UTC only; on SQLite, the text
    form SQLAlchemy stores), so these rows are stored exactly as the ORM would store them."""
    postgres = dialect_name == "postgresql"
    dialect = postgresql.dialect() if postgres else sqlite.dialect()  # type: ignore[no-untyped-call]
    processor = _TABLE.c.occurred_at.type.bind_processor(dialect)
    assert processor is not None
    return processor


def postgres_arrays(rows: Sequence[EventRow]) -> tuple[list[Any], ...]:
    """The rows as one list per column."""
    at = _time_processor("postgresql")
    return tuple(
        [at(row[name]) for row in rows] if name == "occurred_at" else [row[name] for row in rows]
        for name in COLUMNS
    )


def sqlite_tuples(rows: Sequence[EventRow]) -> list[tuple[Any, ...]]:
    """The rows as tuples, in COLUMNS' order."""
    at = _time_processor("sqlite")
    return [
        tuple(at(row[name]) if name == "occurred_at" else row[name] for name in COLUMNS)
        for row in rows
    ]


async def insert_postgres(trail: HeldConnection, rows: Sequence[EventRow]) -> None:
    """Insert ``rows`` with one statement, its own transaction (the engine autocommits)."""
    if rows:
        await trail.execute(postgres_statement(), *postgres_arrays(rows))


def insert_sqlite(statements: Statements, rows: Sequence[EventRow]) -> None:
    """Insert ``rows`` in the batch's open transaction (one executemany of tuples)."""
    if rows:
        statements.executemany(sqlite_statement(), sqlite_tuples(rows))
