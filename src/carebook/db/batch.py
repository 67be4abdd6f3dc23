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
from collections.abc import Callable

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from carebook.db.lock_wait import poll_while_locked


async def run_write_batch(
    engine: Engine, work: Callable[[Connection], None], *, lock_wait_seconds: float
) -> None:
    """Run ``work`` in one write transaction of ``engine`` (busy timeout 0) on a thread."""
    await asyncio.to_thread(_run, engine, work, lock_wait_seconds)


def _run(engine: Engine, work: Callable[[Connection], None], timeout: float) -> None:
    # In WAL mode only BEGIN IMMEDIATE waits for the lock, so a locked try wrote nothing.
    poll_while_locked(lambda: _transaction(engine, work), timeout=timeout, errors=OperationalError)


def _transaction(engine: Engine, work: Callable[[Connection], None]) -> None:
    with engine.begin() as connection:
        work(connection)
