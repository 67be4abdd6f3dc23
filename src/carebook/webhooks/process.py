"""The webhook delivery process: ``carebook serve`` starts one (``CAREBOOK_WEBHOOK_DELIVERY``
``process``, the default) and supervises it (:mod:`carebook.cli.delivery`).

    python -m carebook.cli.delivery      # settings from the CAREBOOK_* variables

It runs the same worker as the in-process mode (:func:`carebook.webhooks.worker.run_worker`:
fan-out, leased claims, sends, records), alone on an event loop of its own and at a lower CPU
priority (``os.nice``, ``CAREBOOK_WEBHOOK_DELIVERY_NICE``): the kernel gives the server's
processes the CPU first, and delivery catches up when requests leave it some. The claims are
leased as before, so several servers (each with its delivery process) share the work, and a
delivery process killed mid-send loses nothing (the lease lapses, the event is sent again).

It stops on SIGTERM (run by hand, on SIGINT too), and on its own when its parent is gone (a
``carebook serve`` killed with SIGKILL cannot stop it), so no delivery process outlives its
server. The parent is watched through a *lifeline*: the read end of a pipe whose write end
only the server holds (``--lifeline FD``). The kernel closes that end when the server dies,
however it dies, and the read end then reports end of file. Unlike the parent's process id
read at start-up (what this module watched before: a server that died while this process was
still importing left it watching init forever), the pipe exists before this process does, so
there is no window.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import select
import signal
import sys
from typing import Any

from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.logs import logging_config
from carebook.webhooks.pace import Pace
from carebook.webhooks.worker import start_worker

logger = logging.getLogger("carebook.webhooks")

# How long each step of the stop may take (the tasks cancelled, then the engine disposed) before
# the process ends anyway: a process whose server is gone has nobody left to kill it.
SHUTDOWN_SECONDS = 5.0
# The longest a stop takes before the process ends itself (both steps); its server waits longer
# before SIGKILL (carebook.cli.delivery.STOP_SECONDS), so that kill only ends a stuck process.
STOP_BUDGET_SECONDS = 2 * SHUTDOWN_SECONDS


def lower_priority(nice: int) -> None:
    """Lower this process's CPU priority by ``nice`` (0 changes nothing)."""
    if nice > 0:
        os.nice(nice)


def delivery_database(settings: Settings) -> Database:
    """The delivery process's database: on PostgreSQL every statement is planned for the queue
    as it is (``custom_plans``). The queue grows from nothing to tens of thousands of rows in a
    burst, and a generic plan of the pick cached while it was nearly empty took 16 s a query
    with 30,000 deliveries pending (PostgreSQL without autovacuum, 6 December 2026; planning it
    takes under a millisecond). On SQLite its commits follow
    ``CAREBOOK_WEBHOOK_DELIVERY_SQLITE_SYNCHRONOUS`` (NORMAL: no fsync, committed on its loop)."""
    own = {"sqlite_synchronous": settings.webhook_delivery_sqlite_synchronous}
    return create_database(settings.model_copy(update=own), custom_plans=True)


async def _lifeline_cut(lifeline: int) -> None:
    """Return once ``lifeline`` (a pipe's read end whose writer never writes) reports end of
    file: every holder of the write end, the server, is gone."""
    loop = asyncio.get_running_loop()
    cut = asyncio.Event()
    loop.add_reader(lifeline, cut.set)
    try:
        await cut.wait()
    finally:
        loop.remove_reader(lifeline)


async def _forever() -> None:
    await asyncio.Event().wait()


async def run(settings: Settings, lifeline: int | None = None) -> None:
    """Deliver until SIGTERM or the end of ``lifeline`` (the server's death); without a
    lifeline (run by hand), until SIGTERM or SIGINT. Under a server SIGINT is ignored
    (:func:`carebook.cli.delivery.main`): a Ctrl-C reaches the whole process group, and the
    server stops this process itself once its own requests are done."""
    database = delivery_database(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGTERM,) if lifeline is not None else (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    worker = start_worker(database, settings, Pace(settings.webhook_delivery_burst_cpu_share))
    parent = _lifeline_cut(lifeline) if lifeline is not None else _forever()
    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(parent)]
    try:
        await asyncio.wait([worker, *waits], return_when=asyncio.FIRST_COMPLETED)
        if waits[1].done():
            logger.info("webhook delivery process: its server is gone, stopping")
        if worker.done() and not any(wait.done() for wait in waits):
            # The worker survives a failed pass; ending means something worse. The type only.
            # Never exit 0 here: the supervisor reads 0 as stopped by a signal, not restarted.
            error = None if worker.cancelled() else worker.exception()
            logger.error("webhook worker ended: %s", type(error).__name__ if error else "no error")
            raise SystemExit(1)  # the supervisor starts a new process
    finally:
        await _stop(database, [worker, *waits])
    logger.info("webhook delivery process stopped")


async def _stop(database: Database, tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and dispose of the engine, within SHUTDOWN_SECONDS; past that, end the
    process (the deliveries it had claimed are sent again once their leases lapse)."""
    for task in tasks:
        task.cancel()
    # asyncio.wait, not a timeout around awaits that suppress CancelledError: its bound holds
    # whatever the tasks do with their cancellation.
    _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_SECONDS)
    disposing = asyncio.create_task(database.dispose())
    _, still = await asyncio.wait([disposing], timeout=SHUTDOWN_SECONDS)
    if pending or still:
        logger.error("webhook delivery process did not stop in %.0f s; ending it", SHUTDOWN_SECONDS)
        logging.shutdown()
        os._exit(1)
    if not disposing.cancelled() and disposing.exception() is not None:
        logger.error("webhook delivery engine disposal: %s", type(disposing.exception()).__name__)


def main(argv: list[str] | None = None) -> None:
    """The process's entry point: ``[--lifeline FD]``."""
    lifeline = _lifeline_from(sys.argv[1:] if argv is None else argv)
    settings = Settings()
    logging.config.dictConfig(logging_config(settings.log_format, settings.log_level))
    if lifeline is not None and _cut(lifeline):
        # The server died while this process was starting: claim nothing.
        logger.info("webhook delivery process: its server is gone, not starting")
        return
    lower_priority(settings.webhook_delivery_nice)
    logger.info("webhook delivery process started (nice %s)", os.nice(0))
    asyncio.run(run(settings, lifeline))


def _cut(lifeline: int) -> bool:
    """Whether ``lifeline`` is at its end now (readable: its writer never writes)."""
    readable, _, _ = select.select([lifeline], [], [], 0)
    return bool(readable)


def _lifeline_from(argv: list[str]) -> int | None:
    if not argv:
        return None
    if len(argv) != 2 or argv[0] != "--lifeline" or not argv[1].isdigit():
        raise SystemExit("usage: python -m carebook.cli.delivery [--lifeline FD]")
    return int(argv[1])
