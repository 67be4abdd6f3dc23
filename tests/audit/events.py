"""Reading the stored audit trail in tests."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from carebook.audit.models import AuditEvent
from carebook.db.engine import Database

FIELDS = ("operation", "action", "record_id", "allowed")


async def stored(database: Database, **where: Any) -> list[AuditEvent]:
    """Every stored event (oldest first), optionally only those with the given column values."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    async with database.read_sessions() as session:
        return list((await session.scalars(query)).all())


def brief(events: list[AuditEvent]) -> list[tuple[Any, ...]]:
    """(operation, action, record_id, allowed) of each event, to compare whole lists."""
    return [tuple(getattr(event, name) for name in FIELDS) for event in events]


def break_audit_storage(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make every read-event batch fail with ``error``, whatever the database's path."""

    async def broken(*_: object) -> None:
        raise error

    monkeypatch.setattr(Database, "trail_batch", broken)
