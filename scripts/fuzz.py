#!/usr/bin/env python
"""The long fuzzing run: the CI test's documents and checks, for as long as you like.

    python scripts/fuzz.py [--database sqlite|postgresql] [--examples N] [--minutes M]

Sends generated queries and mutations (see tests/support/fuzzing.py) to the real ASGI app on a
fresh, migrated database, in batches with a new seed each, until N examples were sent or M
minutes passed (whichever comes first). Prints the counts after every batch; stops with exit
status 1 at the first 5xx, internal error or error without a code, after Hypothesis has shrunk
the document that caused it (printed above the traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))  # the fuzzing support lives with the tests

from tests.support.fuzzing import Harness, Tally, fuzz  # noqa: E402

from carebook.config import Settings  # noqa: E402
from carebook.db.migrate import upgrade  # noqa: E402

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432"
BATCH = 500


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """A migrated, empty database that is removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="carebook-fuzz-") as directory:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'carebook.db'}"
            upgrade(url)
            yield url
        return
    name = f"carebook_fuzz_{uuid.uuid4().hex[:10]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(f"{POSTGRES}/{name}")
        yield f"{POSTGRES}/{name}"
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres_admin(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(POSTGRES.replace("+asyncpg", "") + "/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def run(arguments: argparse.Namespace) -> int:
    """Batches until the budget is spent; the exit status."""
    deadline = time.monotonic() + arguments.minutes * 60
    tally = Tally()
    with fresh_database(arguments.database) as url, asyncio.Runner() as runner:
        # Cheap password hashing, as in the tests: signIn/signUp documents hash on every call.
        settings = Settings(database_url=url, argon2_time_cost=1, argon2_memory_cost_kib=1024)
        harness = runner.run(Harness.start(settings))
        try:
            while tally.sent < arguments.examples and time.monotonic() < deadline:
                batch = min(BATCH, arguments.examples - tally.sent)
                fuzz(runner, harness, batch, tally, run_seed=random.getrandbits(64))
                print(tally.summary(), flush=True)
        finally:
            runner.run(harness.close())
    print(f"done: {tally.sent} documents, 0 internal errors, 0 responses >= 500")
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--examples", type=int, default=20_000, help="documents to send at most")
    parser.add_argument("--minutes", type=float, default=30.0, help="time budget")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(parse()))
