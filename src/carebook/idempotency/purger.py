"""Each server deletes expired Idempotency-Key records now and then."""

from __future__ import annotations

import asyncio
import logging

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.idempotency.store import purge_expired

logger = logging.getLogger("carebook.idempotency")


async def run_purger(database: Database, settings: Settings) -> None:
    """Purge forever; a failed pass is logged and retried at the next interval."""
    while True:
        try:
            await purge_expired(database)
        except Exception:  # a database hiccup must not end the loop
            logger.exception("purging expired Idempotency-Key records failed")
        await asyncio.sleep(settings.idempotency_purge_seconds)


def start_purger(database: Database, settings: Settings) -> asyncio.Task[None] | None:
    """The purge loop as a task of this process (none when the interval is 0)."""
    if settings.idempotency_purge_seconds <= 0:
        return None
    return asyncio.create_task(run_purger(database, settings), name="carebook-idempotency-purge")
