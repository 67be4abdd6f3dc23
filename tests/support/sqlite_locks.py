"""Another writer holding a SQLite file's write lock, as a second server process would."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path


def _hold(path: Path, seconds: float, held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    other.execute("ROLLBACK")
    other.close()


@asynccontextmanager
async def write_lock_held(path: Path, seconds: float) -> AsyncIterator[None]:
    """The block runs while another connection holds the write lock (released after
    ``seconds``); leaving the block waits for the holder to finish."""
    held = threading.Event()
    holder = threading.Thread(target=_hold, args=(path, seconds, held))
    holder.start()
    try:
        await asyncio.to_thread(held.wait)
        yield
    finally:
        await asyncio.to_thread(holder.join)
