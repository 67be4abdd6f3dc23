"""Property test: the indexed search returns exactly what a brute-force filter returns.

Hypothesis generates patients (names with accents, emails, dates of birth, identifiers) and
keyword queries built from fragments of them; the database's answer through the token index must
equal carebook.search.text.matches applied to every patient, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.search_paths import forced

from carebook import builders, search
from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.search import ListArgs, SearchState
from carebook.search.index import searchable
from carebook.search.text import matches, parse_keywords

NAMES = ["Jonas", "José", "Jo", "Joanna", "Zoë", "Ana", "Anaïs", "O'Brien", "Mary Ann", "Lee"]
SURNAMES = ["Salk", "García", "Garcia", "Doe", "Müller", "Muller", "Smith-Jones", "Ng", "Van Dyke"]

patient_st = st.fixed_dictionaries({
    "first_name": st.sampled_from(NAMES),
    "last_name": st.sampled_from(SURNAMES),
    "legal_name": st.one_of(st.none(), st.sampled_from(NAMES)),
    "email_local": st.sampled_from(["jonas.salk", "jo", "ana_g", "x", "mary.ann", "lee+1"]),
    "dob": st.one_of(st.none(), st.dates(date(1950, 1, 1), date(1952, 12, 31))),
    "record_identifier": st.one_of(st.none(), st.sampled_from(["MRN-1", "MRN-12", "A7", "a7b"])),
})  # fmt: skip


def _fragments(patient: dict[str, Any]) -> list[str]:
    words: list[str] = []
    for key in ("first_name", "last_name", "legal_name", "email_local", "record_identifier"):
        value = patient.get(key)
        if value:
            words += [value, value[:1], value[:2], value[:3], value.upper(), value.split()[-1]]
    if patient["dob"]:
        d: date = patient["dob"]
        words += [d.isoformat(), f"{d.month:02d}/{d.day:02d}/{d.year}", str(d.year)]
    return words


@st.composite
def world_and_keywords(draw: st.DrawFn) -> tuple[list[dict[str, Any]], str]:
    patients = draw(st.lists(patient_st, min_size=1, max_size=8))
    pool = [f for p in patients for f in _fragments(p)] + ["zzz", "example", "@", "ñ", "garc"]
    terms = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    return patients, " ".join(terms)


async def _check(
    database_url: str, patients: list[dict[str, Any]], keywords: str, tag: int
) -> None:
    cfg = Settings(database_url=database_url, argon2_time_cost=1, argon2_memory_cost_kib=1024)
    db: Database = create_database(cfg)
    passwords = Passwords(cfg)
    try:
        async with db.write_sessions() as session, session.begin():
            owner = await builders.provider(session, passwords, email=f"oracle{tag}@example.com")
            actor = builders.actor_of(owner)
            rows = []
            for i, p in enumerate(patients):
                rows.append(
                    await builders.patient(
                        session,
                        passwords,
                        actor=actor,
                        first_name=p["first_name"],
                        last_name=p["last_name"],
                        legal_name=p["legal_name"],
                        email=f"{p['email_local']}.{i}@example.com",
                        dob=p["dob"].isoformat() if p["dob"] else None,
                        record_identifier=(
                            f"{p['record_identifier']}-{i}" if p["record_identifier"] else None
                        ),
                    )
                )
            expected = {
                r.id for r in rows if matches(r.id, searchable(r), parse_keywords(keywords))
            }
            # Search by an existing id as well, as a term of its own.
            state = SearchState()
            args = ListArgs(keywords=keywords, limit=None)
            found = await search.page(session, actor, args, state)
            assert {u.id for u in found} == expected, keywords
            assert await search.count(session, actor, args, state) == len(expected)
            id_args = ListArgs(keywords=f"{rows[0].id} {keywords}", limit=None)
            by_id = {u.id for u in await search.page(session, actor, id_args, state)}
            both = {
                r.id for r in rows if matches(r.id, searchable(r), parse_keywords(id_args.keywords))
            }
            assert by_id == both
            await _check_pages(session, state, actor, rows, keywords)
    finally:
        await db.dispose()


# Search paths of a page (see carebook.search.pages): the default, sampled ranges with several
# small rounds of candidates, the walk of the sort order, and the rarest term driving a sort.
PATHS: list[dict[str, Any]] = [
    {},
    {"SAMPLE_SIZE_FACTOR": 0.01, "CANDIDATE_FACTOR": 0.25, "MIN_CANDIDATES": 1},
    {"REFINED_LIMIT": 0, "DRIVING_LIMIT": 0},
    {"REFINED_LIMIT": 0, "DRIVING_LIMIT": 0, "WALK_BUDGET": 1},
]


async def _check_pages(
    session: Any, state: SearchState, actor: Any, rows: list[Any], keywords: str
) -> None:
    """Pages in last-name order equal the brute-force order's slices, on every path."""
    terms = parse_keywords(keywords)
    found = [r for r in rows if matches(r.id, searchable(r), terms)]
    for sort in ("last_name_desc", "last_name_asc"):
        descending = sort.endswith("desc")
        expected = [r.id for r in sorted(found, key=lambda r: (r.last_name, r.id))]
        expected = expected[::-1] if descending else expected
        for values in PATHS:
            with forced(state, values):
                for offset in (0, 2):
                    args = ListArgs(keywords=keywords, sort=sort, offset=offset, limit=3)
                    page = [u.id for u in await search.page(session, actor, args, state)]
                    assert page == expected[offset : offset + 3], (keywords, sort, values)


def test_index_agrees_with_brute_force(database_url: str, database: Database) -> None:
    counter = iter(range(10**6))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(world_and_keywords())
    def run(case: tuple[list[dict[str, Any]], str]) -> None:
        patients, keywords = case
        asyncio.run(_check(database_url, patients, keywords, next(counter)))

    run()
