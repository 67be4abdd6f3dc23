"""Fan-out: each committed event becomes one delivery per webhook of its organization that wants it.

One write transaction claims a batch of undispatched events, inserts their deliveries and marks
them dispatched, so an event is fanned out exactly once however many servers run the worker.
Fan-outs also run one at a time, so deliveries are numbered in the order of their events (the
per-resource order of delivery compares those numbers): on SQLite the write transaction is
exclusive (``BEGIN IMMEDIATE``); on PostgreSQL a transaction-scoped advisory lock admits one
server's fan-out (the others skip theirs this pass rather than wait), and the events are locked
``FOR UPDATE SKIP LOCKED`` as well.
A webhook created after an event is dispatched does not receive it (as in Healthie).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, false, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.db.among import among
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.events.models import (
    DeliveryStatus,
    Event,
    Webhook,
    WebhookDelivery,
    WebhookSubscription,
)

FAN_OUT_BATCH = 500
# The advisory lock's key: any constant that no other lock of Carebook's uses ("cbhk").
_FAN_OUT_LOCK = 0x6362686B
_DELIVERIES = cast(Table, WebhookDelivery.__table__)
# The events not fanned out yet, as the partial index ix_events_undispatched states them
# ("dispatched = false", "= 0" on SQLite: PostgreSQL does not prove that predicate from "IS
# false"), so both databases can read that index alone. With the (dispatched, id) index, on
# statistics taken while many events waited, PostgreSQL walked the primary key from the oldest
# event and filtered out the dispatched ones (154 ms a claim at 320,000 events, issue 28).
UNDISPATCHED = Event.dispatched == false()
_COLUMNS = (
    Event.id,
    Event.organization_id,
    Event.event_type,
    Event.resource_type,
    Event.resource_id,
    Event.created_at,
)


async def _subscribers(
    session: AsyncSession, organization_ids: set[int]
) -> dict[tuple[int, str], set[int]]:
    """(organization id, event type) -> the ids of the enabled webhooks that receive it."""
    webhooks = select(Webhook.id, Webhook.organization_id, Webhook.event_type).where(
        Webhook.organization_id.in_(organization_ids), Webhook.is_enabled.is_(True)
    )
    subscriptions = (
        select(Webhook.id, Webhook.organization_id, WebhookSubscription.event_type)
        .join(WebhookSubscription, WebhookSubscription.webhook_id == Webhook.id)
        .where(Webhook.organization_id.in_(organization_ids), Webhook.is_enabled.is_(True))
    )
    found: dict[tuple[int, str], set[int]] = defaultdict(set)
    for query in (webhooks, subscriptions):
        for webhook_id, organization_id, event_type in await session.execute(query):
            if event_type:
                found[(organization_id, event_type)].add(webhook_id)
    return found


@dataclass(frozen=True, slots=True)
class FanOut:
    """What one fan-out did: events dispatched, deliveries created, and of the events those
    written since the time it was given (the application's writes, not a backlog)."""

    events: int = 0
    deliveries: int = 0
    written: int = 0


def waiting_query() -> Select[int]:
    """Whether any event waits: in id order, as the claim, so the planner takes the partial
    index even on statistics that still count many waiting (a scan "until the first" read
    250,000 dispatched rows)."""
    return select(Event.id).where(UNDISPATCHED).order_by(Event.id).limit(1)


def claim_query(limit: int, *, postgresql: bool) -> Select[int, int, str, str, int, datetime]:
    """The oldest ``limit`` waiting events, the columns a delivery needs (not ORM objects:
    every write's event passes here once, and loading each as an entity cost more than its
    fan-out); on PostgreSQL locked, skipping those another server holds."""
    query = select(*_COLUMNS).where(UNDISPATCHED).order_by(Event.id).limit(limit)
    return query.with_for_update(skip_locked=True) if postgresql else query


async def fan_out(
    database: Database, *, limit: int = FAN_OUT_BATCH, since: datetime | None = None
) -> FanOut:
    """Dispatch up to ``limit`` events, oldest first; ``since``: count those written since."""
    # A read first: an idle server's pass must not take SQLite's write lock every second.
    async with database.read_sessions() as session:
        if (await session.execute(waiting_query())).first() is None:
            return FanOut()
    async with database.write_sessions() as session, session.begin():
        postgresql = database.engine.dialect.name == "postgresql"
        if postgresql and not await session.scalar(
            select(func.pg_try_advisory_xact_lock(_FAN_OUT_LOCK))
        ):
            return FanOut()  # another server is fanning out; the events are its
        events = list((await session.execute(claim_query(limit, postgresql=postgresql))).all())
        if not events:
            return FanOut()
        subscribers = await _subscribers(session, {event.organization_id for event in events})
        now = utcnow()
        deliveries = [
            {
                "organization_id": event.organization_id,
                "webhook_id": webhook_id,
                "event_id": event.id,
                "resource_key": f"{event.resource_type}:{event.resource_id}",
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": event.created_at,
            }
            for event in events
            for webhook_id in sorted(subscribers.get((event.organization_id, event.event_type), ()))
        ]
        # One Core INSERT of many rows, in the list's order (so ids follow the events'): the
        # ORM's unit of work cost ~0.1 ms a row here, with SQLite's write lock held.
        if deliveries:
            await session.execute(insert(_DELIVERIES), deliveries)
        # The claimed ids as one array on PostgreSQL (an IN list of 500 was rendered parameter
        # by parameter at every claim: 1,000 of them for each bulk move's events).
        claimed = among(database.engine.dialect, Event.id, [event.id for event in events])
        await session.execute(
            update(Event)
            .where(claimed)
            .values(dispatched=True)
            .execution_options(synchronize_session=False)
        )
        written = 0 if since is None else sum(event.created_at >= since for event in events)
        return FanOut(len(events), len(deliveries), written)
