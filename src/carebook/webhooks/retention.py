"""The change feed's retention: events older than CAREBOOK_EVENT_RETENTION_DAYS are deleted.

Their delivery rows go with them (ON DELETE CASCADE) and their sentWebhooks rows keep their
own retention (the event id there becomes null). An event still on its way is kept whatever
its age: one not yet fanned out to the webhooks (``dispatched`` false, e.g. the servers were
down), or one with a delivery still pending or sending (a redelivery, a long retry), so a purge
never drops an event a receiver has yet to get.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, select

from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.events.models import DeliveryStatus, Event, WebhookDelivery

logger = logging.getLogger("carebook.webhooks")

# Small batches keep each write transaction short (SQLite has one writer at a time).
PURGE_BATCH = 500
_IN_FLIGHT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def _purgeable(cutoff: datetime) -> ColumnElement[bool]:
    in_flight = exists().where(
        WebhookDelivery.event_id == Event.id, WebhookDelivery.status.in_(_IN_FLIGHT)
    )
    return and_(Event.created_at < cutoff, Event.dispatched.is_(True), ~in_flight)


async def purge_events(database: Database, settings: Settings, now: datetime | None = None) -> int:
    """Delete the events past retention, in batches; returns how many were deleted."""
    cutoff = (now or utcnow()) - timedelta(days=settings.event_retention_days)
    condition = _purgeable(cutoff)
    total = 0
    while True:
        async with database.write_sessions() as session, session.begin():
            ids = list(
                (await session.execute(select(Event.id).where(condition).limit(PURGE_BATCH)))
                .scalars()
                .all()
            )
            if ids:
                # The condition again: a delivery queued since the select keeps its event.
                await session.execute(
                    delete(Event)
                    .where(Event.id.in_(ids), condition)
                    .execution_options(synchronize_session=False)
                )
        total += len(ids)
        if len(ids) < PURGE_BATCH:
            return total


async def run_event_purger(database: Database, settings: Settings) -> None:
    """Purge forever; a failed pass is logged and tried again at the next interval."""
    while True:
        try:
            await purge_events(database, settings)
        except Exception:  # a database hiccup must not end the loop
            logger.exception("purging old events failed")
        await asyncio.sleep(settings.event_purge_seconds)


def start_event_purger(database: Database, settings: Settings) -> asyncio.Task[None] | None:
    """The purge loop as a task of this process (none when the interval is 0)."""
    if settings.event_purge_seconds <= 0:
        return None
    return asyncio.create_task(run_event_purger(database, settings), name="carebook-event-purge")
