"""The change feed: an organization's events after a cursor, oldest first.

A receiver that was down, or an integration starting out, replays the organization's history
from here (the ``changeEvents`` query, ``carebook events``) instead of re-reading every record.
The cursor is the event's id, and each entry carries the exact body a webhook receives
(events/payload.py).

Ids are handed out when a transaction inserts its event, not when it commits: on PostgreSQL a
transaction holding id 100 can commit after another one's 101. A reader that saw 101 and moved
its cursor past it would never see 100. So the feed stops before a *young gap*: an id missing
just before an event written less than :data:`SETTLE_SECONDS` ago, which may belong to a
transaction still committing. An older gap is a rolled-back write (or a purged event) and is
passed. (On SQLite writers take turns, so ids commit in order; the rule costs nothing there.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from carebook.db.base import utcnow
from carebook.events.catalog import EVENT_TYPES
from carebook.events.models import Event
from carebook.events.payload import payload_of

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Longer than a write transaction stays open between inserting its event and committing.
SETTLE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """Which events: always one organization's, after a cursor, optionally of one type."""

    organization_id: int
    after: int = 0
    event_type: str | None = None
    # Set by the feed itself: the first id it may not pass yet (a young gap before it).
    before: int | None = None


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
    if wanted.before is not None:
        query = query.where(Event.id < wanted.before)
    return query


async def settled(
    session: AsyncSession, wanted: FeedFilter, now: datetime | None = None
) -> FeedFilter:
    """``wanted``, bounded before the first young gap after its cursor (see the module's doc).

    Every organization's events count: ids are shared, so another organization's transaction
    still committing leaves the gap. Only events of the last SETTLE_SECONDS are looked at.
    """
    young = (now or utcnow()) - timedelta(seconds=SETTLE_SECONDS)
    previous = aliased(Event)
    after_gap = select(func.min(Event.id)).where(
        Event.created_at > young,
        Event.id > wanted.after + 1,  # the cursor itself is the reader's, present or not
        ~select(previous.id).where(previous.id == Event.id - 1).exists(),
    )
    before = (await session.execute(after_gap)).scalar()
    return wanted if before is None else replace(wanted, before=int(before))


async def list_events(session: AsyncSession, wanted: FeedFilter, *, limit: int) -> list[Event]:
    """One page of the feed: at most ``limit`` settled events after the cursor, in id order."""
    bounded = await settled(session, wanted)
    result = await session.execute(_matching(bounded).limit(limit))
    return list(result.scalars())


async def stream_events(
    session: AsyncSession, wanted: FeedFilter, *, limit: int | None = None, chunk: int = 1000
) -> AsyncIterator[Event]:
    """The settled feed streamed ``chunk`` rows at a time (the CLI replays years of it)."""
    query = _matching(await settled(session, wanted))
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
