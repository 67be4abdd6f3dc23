"""A process's writers take turns at SQLite's write lock in order, instead of polling it together.

SQLite has one write lock per database file. Writers that find it taken poll it
(carebook.db.lock_wait), each on its own worker thread; with several requests of the same process
writing at once, every one of them polled the lock its neighbours held: under `updateClient`
load a third of a worker's CPU went to that polling, and who got the lock next was luck.

The gate is an ``asyncio.Lock`` per event loop that a writer holds from before its
``BEGIN IMMEDIATE`` until its transaction ends: the process's writers queue on it in arrival
order and wait without CPU. Only other processes (another worker, a command-line tool) are still
polled for. The gate orders writers; SQLite's lock still guarantees exclusion, so a turn ended
early (a cancelled request) costs at most some polling, never a second writer in the file.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# What a writer that waited too long sees: the error SQLite itself gives after its busy timeout.
LOCKED_MESSAGE = "database is locked"


class WriteGate:
    """The queue of one process's writers to one SQLite file (one lock per event loop)."""

    def __init__(self) -> None:
        # Per loop: an asyncio.Lock belongs to the loop it was first used on (tests run several).
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def enter(self, wait_seconds: float) -> Turn:
        """Wait (in order) until no other writer of this process holds a turn; then hold one.

        Raises ``sqlite3.OperationalError("database is locked")`` after ``wait_seconds``, as
        SQLite does when its busy timeout runs out.
        """
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        if lock.locked():
            try:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for returns the lock when
                # it is granted as the waiter is cancelled, swallowing the cancellation (a
                # background pass then never ends, and the server's shutdown waits on it).
                async with asyncio.timeout(wait_seconds):
                    await lock.acquire()
            except TimeoutError:
                raise sqlite3.OperationalError(LOCKED_MESSAGE) from None
        else:
            await lock.acquire()  # free: taken without giving up the loop
        return Turn(lock, loop)

    @asynccontextmanager
    async def turn(self, wait_seconds: float) -> AsyncIterator[None]:
        """Hold a turn for the block."""
        held = await self.enter(wait_seconds)
        try:
            yield
        finally:
            held.end()


class Turn:
    """A held turn; ``end`` gives it up (once, from any thread)."""

    __slots__ = ("_lock", "_loop")

    def __init__(self, lock: asyncio.Lock, loop: asyncio.AbstractEventLoop) -> None:
        self._lock: asyncio.Lock | None = lock
        self._loop = loop

    def end(self) -> None:
        """Let the next writer of the process go (idempotent)."""
        lock, self._lock = self._lock, None
        if lock is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            lock.release()
        elif not self._loop.is_closed():  # a connection closed from another thread
            self._loop.call_soon_threadsafe(lock.release)
