"""Emptying the append-only audit table between tests.

The triggers refuse DELETE even to tests; on SQLite the cleanup drops them, deletes and
recreates them in one transaction (PostgreSQL's TRUNCATE does not fire row triggers).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_TRIGGERS = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"


async def clear_sqlite_audit_events(session: AsyncSession) -> None:
    """Delete every audit event on SQLite, keeping the append-only triggers in place."""
    rows = (await session.execute(text(_TRIGGERS), {"table": "audit_events"})).all()
    for name, _ in rows:
        await session.execute(text(f'DROP TRIGGER "{name}"'))
    await session.execute(text("DELETE FROM audit_events"))
    for _, sql in rows:
        await session.execute(text(sql))
