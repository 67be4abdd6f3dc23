"""Another writer holding a SQLite file's write lock, as a second server process would."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

# How long a holder waits for its release signal at most: a liveness bound only (the test that
# gives the signal fails on its own assertions if the signal never comes).
RELEASE_DEADLINE = 120.0


def _hold(path: Path, release: Callable[[], object], held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    held.set()
    release()
    other.execute("ROLLBACK")
    other.close()


@asynccontextmanager
async def write_lock_held(path: Path, seconds: float) -> AsyncIterator[None]:
    """The block runs while another connection holds the write lock (released after
    ``seconds``); leaving the block waits for the holder to finish."""
    async with _held(path, lambda: time.sleep(seconds)):
        yield


@asynccontextmanager
async def write_lock_held_until(path: Path, released: threading.Event) -> AsyncIterator[None]:
    """The block runs while another connection holds the write lock, released once ``released``
    is set (or after RELEASE_DEADLINE s): what the block proves does not depend on how long
    the machine takes to get there."""
    async with _held(path, lambda: released.wait(RELEASE_DEADLINE)):
        yield


@asynccontextmanager
async def _held(path: Path, release: Callable[[], object]) -> AsyncIterator[None]:
    held = threading.Event()
    holder = threading.Thread(target=_hold, args=(path, release, held))
    holder.start()
    try:
        await asyncio.to_thread(held.wait)
        yield
    finally:
        await asyncio.to_thread(holder.join)
