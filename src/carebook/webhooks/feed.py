"""The change feed: an organization's events after a cursor, oldest first.

A receiver that was down, or an integration starting out, replays the organization's history
from here (the ``changeEvents`` query, ``carebook events``) instead of re-reading every record.
The cursor is the event's id: ids only grow, so "after id N" never skips or repeats an event
already committed. Each entry carries the exact body a webhook receives (events/payload.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.events.catalog import EVENT_TYPES
from carebook.events.models import Event
from carebook.events.payload import payload_of

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """Which events: always one organization's, after a cursor, optionally of one type."""

    organization_id: int
    after: int = 0
    event_type: str | None = None


def unknown_event_type(event_type: str | None) -> bool:
    """True for a type filter naming no event Carebook emits (a caller's typo, not 'none')."""
    return event_type is not None and event_type not in EVENT_TYPES


def _matching(wanted: FeedFilter) -> Select[Event]:
    query = (
        select(Event)
        .where(Event.organization_id == wanted.organization_id, Event.id > wanted.after)
        .order_by(Event.id)
    )
    if wanted.event_type is not None:
        query = query.where(Event.event_type == wanted.event_type)
    return query


async def list_events(session: AsyncSession, wanted: FeedFilter, *, limit: int) -> list[Event]:
    """One page of the feed: at most ``limit`` events after the cursor, in id order."""
    result = await session.execute(_matching(wanted).limit(limit))
    return list(result.scalars())


async def stream_events(
    session: AsyncSession, wanted: FeedFilter, *, limit: int | None = None, chunk: int = 1000
) -> AsyncIterator[Event]:
    """The feed streamed ``chunk`` rows at a time (the CLI replays years without loading them)."""
    query = _matching(wanted)
    if limit is not None:
        query = query.limit(limit)
    result = await session.stream_scalars(query.execution_options(yield_per=chunk))
    async for row in result:
        yield row


def feed_entry(event: Event) -> dict[str, Any]:
    """One line of ``carebook events``: the webhook body, with the cursor and the time first."""
    return {
        "id": str(event.id),
        "created_at": event.created_at.isoformat(),
        **payload_of(event),
    }
