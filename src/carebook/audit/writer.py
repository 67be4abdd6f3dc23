"""Group commit of read events: one transaction per batch, the next batch fills meanwhile.

Reads must not become one write transaction each. Requests hand their events to the process's
writer; when no batch is being written, a batch starts one event-loop turn later with everything
pending (no timer delay); while it commits, newer events accumulate and go in the next batch. A
request may await the commit of its own events (the default), so no response leaves before its
trail is stored. How a batch is stored is the Database's business (``trail_batch``: one
statement on the trail's own connection, or a plain write session with the fast paths off).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table

from carebook.audit.models import AuditEvent
from carebook.audit.service import EventRow
from carebook.db.engine import Database

logger = logging.getLogger("carebook.audit")
_TABLE = cast(Table, AuditEvent.__table__)

# Loop turns a new batch waits before taking what is pending. A SQLite batch on the loop commits
# within the turn it starts in, so without a wait two requests answered in consecutive turns
# paid a transaction each; one turn lets a request whose answer is being computed join (with two
# requests in flight per worker, events per batch went from 1.1-1.6 to 2.0), at the cost of one
# turn's latency, microseconds when nothing else is ready.
WINDOW_TURNS = 1


class AuditUnavailable(RuntimeError):
    """The batch holding a request's events could not be stored."""


class AuditWriter:
    """The process's batching writer of audit events (one per application)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._pending: list[EventRow] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # how many transactions were written (tests and benchmarks read it)

    @property
    def queued(self) -> int:
        """Events waiting for the next batch (the metrics' audit queue depth)."""
        return len(self._pending)

    def submit(self, rows: Sequence[EventRow], *, wait: bool) -> asyncio.Future[None] | None:
        """Queue ``rows``; with ``wait``, a future done when they are committed."""
        if not rows:
            return None
        self._pending.extend(rows)
        waiter: asyncio.Future[None] | None = None
        if wait:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return waiter

    async def close(self) -> None:
        """Wait until everything submitted is written (shutdown)."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        try:
            for _ in range(WINDOW_TURNS):
                await asyncio.sleep(0)
            while self._pending:
                rows, waiters = self._pending, self._waiters
                self._pending, self._waiters = [], []
                await self._write(rows, waiters)
        finally:
            # No await between the loop's last check and here, so nothing can be left behind.
            self._task = None

    async def _write(self, rows: list[EventRow], waiters: list[asyncio.Future[None]]) -> None:
        try:
            await self._insert(rows)
        except Exception as error:  # reported to every waiting request, never to the loop
            # Counts and the error's type only: SQL parameters are not logged.
            logger.error("audit batch of %d events failed: %s", len(rows), type(error).__name__)
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(AuditUnavailable())
            return
        self.batches += 1
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _insert(self, rows: list[EventRow]) -> None:
        await self._database.trail_batch(_TABLE, rows)
