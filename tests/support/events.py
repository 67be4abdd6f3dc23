"""Reading what the services wrote to the ``events`` table, and marking where a test starts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from carebook.db.engine import Database
from carebook.events.models import Event


@dataclass(frozen=True)
class Seen:
    """One event row, as a test compares it."""

    event_type: str
    resource_type: str
    resource_id: int
    changed_fields: list[str]
    organization_id: int
    extra: dict[str, Any]


async def last_event_id(database: Database) -> int:
    """The id of the newest event (0 when none): events after it are the test's."""
    async with database.read_sessions() as session:
        return int((await session.execute(select(func.max(Event.id)))).scalar() or 0)


async def events_after(database: Database, after: int) -> list[Seen]:
    """The events written after ``after``, oldest first."""
    async with database.read_sessions() as session:
        rows = (
            await session.execute(select(Event).where(Event.id > after).order_by(Event.id))
        ).scalars()
        seen = [
            Seen(
                event_type=row.event_type,
                resource_type=row.resource_type,
                resource_id=row.resource_id,
                changed_fields=json.loads(row.changed_fields),
                organization_id=row.organization_id,
                extra=json.loads(row.extra),
            )
            for row in rows
        ]
    return seen
