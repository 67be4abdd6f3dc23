"""The webhook worker: an asyncio task of every ``carebook serve`` process.

Each pass fans new events out and claims due deliveries for its free send slots; the sends run
as tasks (:mod:`carebook.webhooks.dispatch`) while the next passes claim more. Servers share the
work through the database (claims), so any number of them may run. Once a day or so it also drops
the ``sent_webhooks`` log older than ``sent_webhook_retention_days``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import datetime, timedelta

from sqlalchemy import delete

from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.events.models import SentWebhook
from carebook.webhooks.dispatch import Dispatcher, fan_out_all
from carebook.webhooks.pace import Pace

logger = logging.getLogger("carebook.webhooks")

PURGE_EVERY_SECONDS = 24 * 3600.0
# Set to "1" by `carebook serve` while its delivery process runs (cli/serve.py), in its own
# environment and so in its workers'.
DELIVERY_PROCESS_MARK = "CAREBOOK_SERVE_DELIVERY_PROCESS"


def delivers_inline(settings: Settings) -> bool:
    """Whether this server process runs the webhook worker itself: with
    CAREBOOK_WEBHOOK_DELIVERY=inline, and with ``process`` unless `carebook serve` started a
    delivery process for it. An app served by another ASGI server (its own uvicorn or
    gunicorn command) has no delivery process: it delivers inline rather than not at all."""
    return settings.webhook_delivery == "inline" or os.environ.get(DELIVERY_PROCESS_MARK) != "1"


async def purge_sent_webhooks(database: Database, settings: Settings) -> int:
    """Delete the attempts logged before the retention period; how many."""
    cutoff = utcnow() - timedelta(days=settings.sent_webhook_retention_days)
    async with database.write_sessions() as session, session.begin():
        result = await session.execute(delete(SentWebhook).where(SentWebhook.created_at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]


async def _purge_if_due(database: Database, settings: Settings, last: float | None) -> float | None:
    now = time.monotonic()
    if last is not None and now - last < PURGE_EVERY_SECONDS:
        return last
    removed = await purge_sent_webhooks(database, settings)
    if removed:
        logger.info("%s sent_webhooks rows past retention deleted", removed)
    return now


async def run_worker(database: Database, settings: Settings, pace: Pace | None = None) -> None:
    """Fan out every ``webhook_poll_seconds``, and claim then and whenever sends have freed
    slots (the sends run while the next claims are made), until cancelled. With ``pace`` (the
    delivery process's), claims wait while a burst of writes has used up its CPU share."""
    logger.info("webhook delivery worker started")
    dispatcher = Dispatcher(database, settings)
    purged_at: float | None = None
    fan_out_at = 0.0
    written_since: datetime | None = None  # the last fan-out's start: events written since
    try:
        while True:
            paused = 0.0
            try:
                if time.monotonic() >= fan_out_at:
                    # Not at every wake-up: under steady writes there is always an event to
                    # fan out, and each fan-out is a write transaction.
                    fan_out_at = time.monotonic() + settings.webhook_poll_seconds
                    started = utcnow()
                    fanned = await fan_out_all(database, since=written_since)
                    written_since = started
                    if pace is not None:
                        pace.fanned_out(fanned.written)
                    purged_at = await _purge_if_due(database, settings, purged_at)
                paused = pace.wait_seconds() if pace is not None else 0.0
                if not paused:
                    await dispatcher.fill()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bad pass must not end delivery for good
                # The type only: messages of database errors can quote parameters.
                logger.error("webhook delivery pass failed: %s", type(error).__name__)
            until_fan_out = max(fan_out_at - time.monotonic(), 0.0)
            if paused:  # the sends in flight go on; no claim before the pause or the fan-out
                await asyncio.sleep(min(paused, until_fan_out))
            else:
                await dispatcher.wait(until_fan_out)
    finally:
        await dispatcher.aclose()


def start_worker(
    database: Database, settings: Settings, pace: Pace | None = None
) -> asyncio.Task[None]:
    """Start this process's webhook worker."""
    return asyncio.create_task(run_worker(database, settings, pace), name="carebook-webhook-worker")
