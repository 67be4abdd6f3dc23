"""A page of one term's keys, read with and without one stream per value of ``shared``.

Times ``carebook.search.last_name_order.in_last_name_order`` in this process on the benchmark
database (no HTTP, no GraphQL), alternating the two ways in rounds, to choose ``SPLIT_FROM``::

    python -m bench.streams --database postgresql xochiquetzal vukovichale garcia smith
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from unittest.mock import patch

from sqlalchemy.ext.asyncio import AsyncSession

from bench.run import default_database_url
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.search import last_name_order, terms
from carebook.search.state import SearchState
from carebook.search.text import parse_keywords

CALLS, ROUNDS, ALWAYS, NEVER = 60, 4, 0, 10**9


async def _median_ms(
    session: AsyncSession, state: SearchState, ordered: last_name_order.Ordered
) -> float:
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await last_name_order.in_last_name_order(session, state, ordered, None, 10)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def _compare(url: str, words: list[str], organization_id: int) -> None:
    database = create_database(Settings(database_url=url))
    state = SearchState()
    async with database.read_sessions() as session:
        for word in words:
            term = parse_keywords(word)[0]
            size = await terms.estimate(session, state, organization_id, term, 400_000)
            ordered = last_name_order.Ordered(organization_id, term, True, None, size)
            found: dict[int, list[float]] = {ALWAYS: [], NEVER: []}
            for _ in range(ROUNDS):
                for split_from in (ALWAYS, NEVER):
                    with patch.object(last_name_order, "SPLIT_FROM", split_from):
                        found[split_from].append(await _median_ms(session, state, ordered))
            split = ", ".join(f"{ms:.2f}" for ms in found[ALWAYS])
            single = ", ".join(f"{ms:.2f}" for ms in found[NEVER])
            print(f"{word} ({size:,} rows): split {split} ms; one stream {single} ms")
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("words", nargs="+")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--organization-id", type=int, default=1)
    options = parser.parse_args()
    url = default_database_url(options.database, quick=False)
    asyncio.run(_compare(url, options.words, options.organization_id))


if __name__ == "__main__":
    main()
