"""The delivery worker: an asyncio task of ``carebook serve`` that drains the outbox."""

from __future__ import annotations

import asyncio
import logging

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.notifications.delivery import deliver_pending

logger = logging.getLogger("carebook.email")


async def run_worker(database: Database, settings: Settings) -> None:
    """Deliver due messages every ``outbox_poll_seconds`` until cancelled."""
    logger.info("email delivery worker started")
    while True:
        try:
            await deliver_pending(database, settings)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bad pass must not end delivery for good
            # The type only: messages of database errors can quote parameters.
            logger.error("email delivery pass failed: %s", type(error).__name__)
        await asyncio.sleep(settings.outbox_poll_seconds)


def start_worker(database: Database, settings: Settings) -> asyncio.Task[None] | None:
    """Start the worker when SMTP is configured; otherwise say where emails stay."""
    if not settings.smtp_url:
        logger.info("CAREBOOK_SMTP_URL is not set: emails stay in the outbox (carebook outbox)")
        return None
    return asyncio.create_task(run_worker(database, settings), name="carebook-email-worker")
