"""A write transaction run whole on a worker thread (SQLite file databases).

Through the async engine a write transaction takes the database's write lock at ``BEGIN
IMMEDIATE`` and keeps it until the event loop gets round to sending ``COMMIT``; on a busy server
that is several milliseconds, and the other worker processes wait in SQLite's busy handler, which
sleeps 1, 2, 5, 10... ms between tries. The audit trail's group commit, which every read waits
for, suffered most. Here begin, statements and commit run in one call on a thread, so the lock is
held only for the work itself, and a busy lock is polled every 0.1-2 ms instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

_FIRST_DELAY = 0.0001
_MAX_DELAY = 0.002


async def run_write_batch(
    engine: Engine, work: Callable[[Connection], None], *, lock_wait_seconds: float
) -> None:
    """Run ``work`` in one write transaction of ``engine`` (busy timeout 0) on a thread."""
    await asyncio.to_thread(_run, engine, work, lock_wait_seconds)


def _run(engine: Engine, work: Callable[[Connection], None], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = _FIRST_DELAY
    while True:
        try:
            with engine.begin() as connection:
                work(connection)
            return
        except OperationalError as error:
            # In WAL mode only BEGIN IMMEDIATE waits for the lock, so nothing was written.
            if not _locked(error) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, _MAX_DELAY)


def _locked(error: OperationalError) -> bool:
    return "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower()
