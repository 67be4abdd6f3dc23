"""Running the sends: a task per claimed delivery, bounded, fair between webhooks.

The worker does not wait for a pass's slowest POST before the next one: each claimed delivery
is sent by a task of its own, at most ``CONCURRENT_SENDS`` at once and ``PER_WEBHOOK`` per
webhook, and the worker claims more as soon as slots free up. A receiver that hangs until the
timeout therefore holds only its own webhook's few slots; the other organizations' deliveries
keep flowing (:func:`carebook.webhooks.delivery.due_rows` picks fairly per webhook).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.events.models import DeliveryStatus
from carebook.webhooks.attempts import Attempt, record_attempt, record_attempts
from carebook.webhooks.connections import Connections
from carebook.webhooks.delivery import (
    DELIVERY_BATCH,
    PER_WEBHOOK,
    claim_many,
    due_rows,
    lease_for,
    load_many,
    send_claimed,
)
from carebook.webhooks.fanout import FAN_OUT_BATCH, FanOut, fan_out
from carebook.webhooks.requests import Prepared

logger = logging.getLogger("carebook.webhooks")

CONCURRENT_SENDS = 16
RECORD_BATCH = 50
RECORD_LINGER_SECONDS = 0.025
FAN_OUT_BATCHES = 10


@dataclass
class PassReport:
    """What the sends of a dispatcher (or one pass) came to."""

    fanned_out: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0

    def count(self, status: str | None) -> None:
        """Count one send's new status."""
        if status == DeliveryStatus.DELIVERED:
            self.delivered += 1
        elif status == DeliveryStatus.PENDING:
            self.retried += 1
        elif status == DeliveryStatus.FAILED:
            self.failed += 1


class Recorder:
    """Records the outcomes of sends that end together in one write transaction.

    A send hands its attempt over and waits; the first to arrive starts a flush, which takes
    whatever has gathered by then (up to ``RECORD_BATCH``). Should the batch's transaction fail,
    each attempt is recorded alone, so that one bad row costs only its own delivery (whose lease
    lapses and which is sent again).
    """

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database, self.settings = database, settings
        self._waiting: list[tuple[Attempt, asyncio.Future[str]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def record(self, attempt: Attempt) -> str:
        """Record ``attempt`` (with the others waiting); its delivery's new status."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting.append((attempt, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        # Let the sends that end meanwhile join: one write transaction for a dozen attempts
        # rather than one for every two or three (each is a turn of SQLite's write lock that
        # the application's writes wait for). The sends' slots wait as long; nothing else does.
        await asyncio.sleep(RECORD_LINGER_SECONDS)
        while self._waiting:
            batch = self._waiting[:RECORD_BATCH]
            del self._waiting[:RECORD_BATCH]
            try:
                statuses = await record_attempts(
                    self.database, self.settings, [attempt for attempt, _ in batch]
                )
            except Exception:
                await self._one_by_one(batch)
                continue
            for (_, future), status in zip(batch, statuses, strict=True):
                if not future.done():
                    future.set_result(status)

    async def _one_by_one(self, batch: list[tuple[Attempt, asyncio.Future[str]]]) -> None:
        for attempt, future in batch:
            try:
                status = await record_attempt(self.database, self.settings, attempt)
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
                continue
            if not future.done():
                future.set_result(status)

    async def aclose(self) -> None:
        """Stop flushing (the sends waiting are being cancelled too)."""
        if self._flushing is not None:
            self._flushing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flushing


class Dispatcher:
    """The sends in flight of one worker, and the connections they share."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        concurrency: int = CONCURRENT_SENDS,
        per_webhook: int = PER_WEBHOOK,
        sends_at_once: int | None = None,
    ) -> None:
        """``concurrency``: deliveries claimed and not yet recorded; ``sends_at_once``: POSTs
        open at once among them (default: all of them)."""
        self.database, self.settings = database, settings
        self._gate = asyncio.Semaphore(sends_at_once or concurrency)
        self.concurrency, self.per_webhook = concurrency, per_webhook
        self.report = PassReport()
        self.connections = Connections()
        self.recorder = Recorder(database, settings)
        self._busy: dict[int, int] = {}  # webhook id -> its sends in flight
        self._tasks: set[asyncio.Task[None]] = set()
        self._freed = asyncio.Event()
        # Wake the worker once half the sends in flight at the last claim have ended, not at
        # each one: a claim is a write transaction, and one per send would compete with the
        # application's writes for SQLite's lock.
        self._ended_since_fill = 0
        self._wake_after = 1

    @property
    def in_flight(self) -> int:
        """Sends running now."""
        return len(self._tasks)

    async def fill(self) -> int:
        """Claim due deliveries for the free slots and start their sends; how many started."""
        self._ended_since_fill = 0
        self._wake_after = max(1, len(self._tasks) // 2)
        free = self.concurrency - len(self._tasks)
        if free <= 0:
            return 0
        rows = await due_rows(self.database, free, self.per_webhook, self._busy)
        webhook_of = dict(rows)
        claimed = await claim_many(self.database, list(webhook_of), lease_for(self.settings))
        if not claimed:
            return 0
        requests = await load_many(self.database, self.settings, claimed)
        for delivery_id, attempt in claimed.items():
            webhook_id = webhook_of[delivery_id]
            self._busy[webhook_id] = self._busy.get(webhook_id, 0) + 1
            task = asyncio.create_task(
                self._send(delivery_id, webhook_id, attempt, requests[delivery_id])
            )
            self._tasks.add(task)
        self._wake_after = max(1, len(self._tasks) // 2)
        return len(claimed)

    async def _send(
        self, delivery_id: int, webhook_id: int, attempt: int, request: Prepared | str
    ) -> None:
        try:
            async with self._gate:
                status = await send_claimed(
                    self.database,
                    self.settings,
                    delivery_id,
                    attempt,
                    request,
                    self.connections,
                    self.recorder.record,
                )
            self.report.count(status)
        except Exception as error:  # one delivery's fault (a database error) ends only its
            # own attempt; its lease lapses and it is tried again. The type only: messages of
            # database errors can quote parameters.
            logger.error("webhook delivery %s failed: %s", delivery_id, type(error).__name__)
        finally:
            self._busy[webhook_id] -= 1
            if not self._busy[webhook_id]:
                del self._busy[webhook_id]
            self._tasks.discard(asyncio.current_task())
            self._ended_since_fill += 1
            if self._ended_since_fill >= self._wake_after or not self._tasks:
                self._freed.set()

    async def wait(self, seconds: float) -> None:
        """Until half the sends of the last claim have ended (or all) or ``seconds`` pass."""
        self._freed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._freed.wait()

    async def drain(self) -> None:
        """Until every send started has finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel the sends in flight (their leases lapse and they are sent again) and close
        the connections."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.recorder.aclose()
        await self.connections.aclose()


async def fan_out_all(database: Database, since: datetime | None = None) -> FanOut:
    """Fan new events out, several batches to catch up after a burst, within bounds; what they
    came to (events dispatched, deliveries created, events written since ``since``)."""
    done = FanOut()
    for _ in range(FAN_OUT_BATCHES):
        batch = await fan_out(database, since=since)
        done = FanOut(
            done.events + batch.events,
            done.deliveries + batch.deliveries,
            done.written + batch.written,
        )
        if batch.events < FAN_OUT_BATCH:
            break
    return done


async def deliver_due(
    database: Database,
    settings: Settings,
    *,
    limit: int = DELIVERY_BATCH,
    concurrency: int = CONCURRENT_SENDS,
) -> PassReport:
    """Send what is due now (one claim of up to ``limit``, ``concurrency`` POSTs at once) and
    wait for those sends."""
    dispatcher = Dispatcher(database, settings, concurrency=limit, sends_at_once=concurrency)
    try:
        await dispatcher.fill()
        await dispatcher.drain()
    finally:
        await dispatcher.aclose()
    return dispatcher.report


async def run_pass(database: Database, settings: Settings) -> PassReport:
    """One pass, as tests and tools drive it: fan new events out, then deliver what is due."""
    fanned_out = await fan_out_all(database)
    report = await deliver_due(database, settings)
    report.fanned_out = fanned_out.deliveries
    return report
