"""Emptying SQLite tables whose triggers refuse or count each deleted row.

The audit table's triggers refuse DELETE even to tests; the counters' triggers do a row's work
for each row. On SQLite a table is emptied with its triggers dropped, its rows deleted and the
triggers recreated from their own SQL, in the caller's transaction (PostgreSQL's TRUNCATE does
not fire row triggers).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_TRIGGERS = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"


async def empty_sqlite_table(connection: AsyncSession | AsyncConnection, table: str) -> None:
    """Delete every row of ``table`` on SQLite, keeping its triggers in place."""
    rows = (await connection.execute(text(_TRIGGERS), {"table": table})).all()
    for name, _ in rows:
        await connection.execute(text(f'DROP TRIGGER "{name}"'))
    await connection.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608
    for _, sql in rows:
        await connection.execute(text(sql))


async def clear_sqlite_audit_events(session: AsyncSession) -> None:
    """Delete every audit event on SQLite, keeping the append-only triggers in place."""
    await empty_sqlite_table(session, "audit_events")
