"""A scheduled-message pass in its own process that stops inside its first release.

``python -m tests.support.note_scheduler_child URL NOW``: takes the lease as holder "child" at
NOW (ISO 8601), releases the first due message up to its commit, prints "paused" and waits
forever there: the test kills it (SIGKILL) with the transaction open, as a server dies.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

import carebook.tables  # noqa: F401 - every model, as in the server
from carebook.accounts.note_schedule import run_due
from carebook.config import Settings
from carebook.db.engine import create_database


async def _hold() -> None:
    print("paused", flush=True)
    await asyncio.Event().wait()  # never set: the process is killed here


async def main(url: str, now: str) -> None:
    settings = Settings(database_url=url)
    database = create_database(settings)
    await run_due(database, settings, holder="child", now=datetime.fromisoformat(now), pause=_hold)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
