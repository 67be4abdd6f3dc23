"""The webhook delivery process: ``carebook serve`` starts one (``CAREBOOK_WEBHOOK_DELIVERY``
``process``, the default) and supervises it (:mod:`carebook.cli.delivery`).

    python -m carebook.cli.delivery      # settings from the CAREBOOK_* variables

It runs the same worker as the in-process mode (:func:`carebook.webhooks.worker.run_worker`:
fan-out, leased claims, sends, records), alone on an event loop of its own and at a lower CPU
priority (``os.nice``, ``CAREBOOK_WEBHOOK_DELIVERY_NICE``): the kernel gives the server's
processes the CPU first, and delivery catches up when requests leave it some. The claims are
leased as before, so several servers (each with its delivery process) share the work, and a
delivery process killed mid-send loses nothing (the lease lapses, the event is sent again).

It stops on SIGTERM or SIGINT, and on its own when its parent is gone (a ``carebook serve``
killed with SIGKILL cannot stop it), so no delivery process outlives its server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.config
import os
import signal

from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.logs import logging_config
from carebook.webhooks.worker import start_worker

logger = logging.getLogger("carebook.webhooks")

PARENT_CHECK_SECONDS = 1.0


def lower_priority(nice: int) -> None:
    """Lower this process's CPU priority by ``nice`` (0 changes nothing)."""
    if nice > 0:
        os.nice(nice)


async def _parent_gone(parent: int) -> None:
    """Return once this process's parent is no longer ``parent`` (it died; init adopted us)."""
    while os.getppid() == parent:  # noqa: ASYNC110 (nothing to wait on: no event is sent)
        await asyncio.sleep(PARENT_CHECK_SECONDS)


async def run(settings: Settings, parent: int) -> None:
    """Deliver until SIGTERM, SIGINT or the parent's death."""
    database = create_database(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    worker = start_worker(database, settings)
    waits = [
        asyncio.create_task(stop.wait()),
        asyncio.create_task(_parent_gone(parent)),
    ]
    try:
        await asyncio.wait([worker, *waits], return_when=asyncio.FIRST_COMPLETED)
        if worker.done() and not worker.cancelled() and worker.exception() is not None:
            # The worker survives a failed pass; ending means something worse. The type only.
            logger.error("webhook worker ended: %s", type(worker.exception()).__name__)
            raise SystemExit(1)  # the supervisor starts a new process
    finally:
        for task in (worker, *waits):
            task.cancel()
        for task in (worker, *waits):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await database.dispose()
    logger.info("webhook delivery process stopped")


def main() -> None:
    """The process's entry point."""
    settings = Settings()
    logging.config.dictConfig(logging_config(settings.log_format, settings.log_level))
    lower_priority(settings.webhook_delivery_nice)
    logger.info("webhook delivery process started (nice %s)", os.nice(0))
    asyncio.run(run(settings, os.getppid()))
