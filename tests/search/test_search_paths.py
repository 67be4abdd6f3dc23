"""Every access path of a keyword page returns the brute-force page.

With a few dozen patients a range is small, so the paths the planner picks at a million
patients (sampled ranges, several rounds of candidates) are forced by lowering their thresholds.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.search_paths import StaleBounds, forced

from carebook import builders, search
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.search import ListArgs, SearchState
from carebook.search.index import searchable
from carebook.search.text import matches, parse_keywords

LAST_NAMES = ["García", "Garcia-Lopez", "Zed", "Able", "García", "Mora"]
FIRST_NAMES = ["Maria", "Garcilaso", "Ann", "Maria"]


def _answer(value: bool) -> Any:
    async def mostly_exact(*_: Any) -> bool:
        return value

    return mostly_exact


PATHS: list[dict[str, Any]] = [
    {},
    # Other terms checked by the database as it reads the keys, or per batch afterwards.
    {"_mostly_exact": _answer(True)},
    {"_mostly_exact": _answer(False)},
    {"_mostly_exact": _answer(True), "CANDIDATE_ROUNDS": 1, "MIN_CANDIDATES": 1},
    # Longer tokens as one stream per value of shared, as for a large range (the ranges here are
    # small: the other paths read them as one stream, shared IN ...).
    {"SPLIT_FROM": 0},
    # Sampled range: the modulus is size / (factor * batch), about 2 to 4 here.
    {"SAMPLE_SIZE_FACTOR": 1, "CANDIDATE_FACTOR": 0.25, "MIN_CANDIDATES": 1},
    {"SAMPLE_SIZE_FACTOR": 0.5, "CANDIDATE_FACTOR": 1, "MIN_CANDIDATES": 1},
    {"SAMPLE_SIZE_FACTOR": 1, "CANDIDATE_FACTOR": 0.25, "MIN_CANDIDATES": 1},  # bounds reused
    {
        "SAMPLE_SIZE_FACTOR": 1,
        "CANDIDATE_FACTOR": 0.25,
        "MIN_CANDIDATES": 1,
        "bounds": StaleBounds(),
    },
    # One small round: the general path takes over.
    {"CANDIDATE_ROUNDS": 1, "CANDIDATE_FACTOR": 0.1, "MIN_CANDIDATES": 1},
    {"REFINED_LIMIT": 0, "DRIVING_LIMIT": 0},
]


@pytest.mark.parametrize("keywords", ["garcia", "maria garcia", "gar", "maria", "garcia able"])
async def test_pages_equal_the_brute_force_order_on_every_path(
    database: Database, passwords: Passwords, keywords: str
) -> None:
    async with database.write_sessions() as session, session.begin():
        owner = await builders.provider(session, passwords, email="paths@example.com")
        actor = builders.actor_of(owner)
        rows = [
            await builders.patient(
                session,
                passwords,
                actor=actor,
                first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                last_name=LAST_NAMES[i % len(LAST_NAMES)],
                email=f"{'garcia' if i % 3 == 0 else 'x'}.{i}@example.com",
            )
            for i in range(36)
        ]
        for archived in rows[::4]:  # both values of ``active`` in every term's range
            archived.active = False
        await session.flush()
        terms = parse_keywords(keywords)
        for status in (None, "active", "archived"):
            kept = [r for r in rows if status is None or r.active == (status == "active")]
            found = [r for r in kept if matches(r.id, searchable(r), terms)]
            await _check_paths(session, actor, keywords, status, found)


async def _check_paths(
    session: Any, actor: Any, keywords: str, status: str | None, found: list[Any]
) -> None:
    """Every path's pages, and the count, equal the brute-force ones."""
    state = SearchState()  # one for every path: a path may reuse what an earlier one found
    for sort in ("last_name_desc", "last_name_asc"):
        expected = [r.id for r in sorted(found, key=lambda r: (r.last_name, r.id))]
        expected = expected[::-1] if sort.endswith("desc") else expected
        for values in PATHS:
            with forced(state, values):
                for offset in (0, 1, 4, 9):
                    args = ListArgs(
                        keywords=keywords, active_status=status, sort=sort, offset=offset, limit=3
                    )
                    page = [u.id for u in await search.page(session, actor, args, state)]
                    assert page == expected[offset : offset + 3], (sort, values, offset, status)
    args = ListArgs(keywords=keywords, active_status=status)
    assert await search.count(session, actor, args, state) == len(found)
