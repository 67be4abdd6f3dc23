"""CPU of the look-ups every write and every request makes, in process, per call.

    python -m bench.checks [--database-url URL]    # default: the --quick run's SQLite file

The email-taken and staff checks of createClient/updateClient/signUp, the API-key look-up
of every authenticated request, the one-patient look-up of every update and a creation's read
of its recorded duplicate pairs, each called in a loop on one read session; the thread's CPU
per call, best of five rounds. Compare builds by alternating them
(``PYTHONPATH=<other>/src``): what a build changes in building and executing these statements
shows here without the HTTP and GraphQL noise around it (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from bench.run import RESULTS
from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.duplicates import pairs
from carebook.users import credentials, queries

CALLS = 2000
ROUNDS = 5
STAFF = Actor(user_id=1, organization_id=1, role=Role.PROVIDER)
# The --quick run's file wherever this is run from (a relative path would make an empty one).
QUICK_URL = f"sqlite+aiosqlite:///{RESULTS / 'quick.db'}"


async def _best(call: Callable[[], Awaitable[object]]) -> float:
    """The least thread CPU of ``CALLS`` calls over ``ROUNDS`` rounds, in ms per call."""
    for _ in range(CALLS // 10):  # warm: statement caches, the page cache
        await call()
    rounds = []
    for _ in range(ROUNDS):
        start = time.thread_time()
        for _ in range(CALLS):
            await call()
        rounds.append((time.thread_time() - start) / CALLS * 1000)
    return min(rounds)


async def measure(database_url: str) -> dict[str, float]:
    """ms of CPU per call of each look-up."""
    database = create_database(Settings(database_url=database_url))
    try:
        async with database.read_sessions() as session:
            return {
                "patient_email_taken": await _best(
                    lambda: queries.patient_email_taken(session, 1, "nobody@example.com")
                ),
                "staff_ids_in_org": await _best(lambda: queries.staff_ids_in_org(session, 1, [1])),
                "actor_from_api_key": await _best(
                    lambda: credentials.actor_from_api_key(session, "not-a-key")
                ),
                "get_visible_patient": await _best(
                    lambda: queries.get_visible_patient(session, STAFF, 1)
                ),
                "recorded_duplicate_pairs": await _best(
                    lambda: session.run_sync(lambda s: pairs.recorded(s.connection(), 1, {(1, 2)}))
                ),
            }
    finally:
        await database.dispose()


def main() -> None:
    """Print each look-up's CPU per call."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=QUICK_URL)
    args = parser.parse_args()
    if args.database_url == QUICK_URL and not (RESULTS / "quick.db").exists():
        raise SystemExit(f"{RESULTS / 'quick.db'} is missing: run `python -m bench --quick` first")
    for name, ms in asyncio.run(measure(args.database_url)).items():
        print(f"{name}: {ms:.3f} ms of CPU per call")


if __name__ == "__main__":
    main()
