"""Emitting an event: a row added to the caller's transaction, nothing sent yet.

Services call :func:`emit` next to the write it describes. The row commits or rolls back with
the write (a refused mutation sends nothing; a committed one is delivered even if the server
dies right after the commit), and no statement is sent until the transaction flushes, so an
event costs a write one INSERT at commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.events.catalog import EVENT_TYPES
from carebook.events.models import Event


def emit(
    session: AsyncSession,
    *,
    organization_id: int,
    event_type: str,
    resource_id: int,
    changed_fields: Sequence[str] = (),
    extra: Mapping[str, int | str | None] | None = None,
) -> Event:
    """Add one event to ``session``'s transaction.

    ``changed_fields`` are Healthie's field names, for updated events (sorted, without
    duplicates on the wire); ``extra`` holds the additional fields Healthie's reference gives
    the event, ids and type names only: never patient data.
    """
    kind = EVENT_TYPES[event_type]  # a KeyError here is a programming error, not bad input
    event = Event(
        organization_id=organization_id,
        event_type=kind.name,
        resource_type=kind.resource_type,
        resource_id=resource_id,
        changed_fields=json.dumps(sorted(set(changed_fields))),
        extra=json.dumps(dict(extra or {}), sort_keys=True),
    )
    session.add(event)
    return event
