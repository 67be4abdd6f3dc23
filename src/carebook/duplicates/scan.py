"""Finding candidate pairs through the blocking keys, in SQL, and recording them.

:func:`scan_organization` compares every pair of an organization's active patients that share a
key (never all pairs): the database groups the keys, joins the small blocks and streams the pairs
in order; Python scores them a batch at a time, so memory holds one batch of pairs and the
matches found. :func:`find_for` does the same for a few patients (a creation, an import batch)
through the same keys. What they find is recorded in ``duplicate_pairs`` (duplicates/pairs.py);
a dismissed pair stays dismissed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.engine import Connection

from carebook.duplicates import pairs
from carebook.duplicates.keys import tally_of
from carebook.duplicates.matcher import Match, Person, compare
from carebook.duplicates.people import common_names, counted, load_people

# A key shared by more patients than this is no evidence (a clinic's own phone number, a
# placeholder email): its block is skipped rather than compared pair by pair.
MAX_BLOCK = 50
PAIR_BATCH = 5000

# ``CROSS JOIN`` keeps SQLite's loops in the written order, from each block to its keys (it
# otherwise walked every key of the organization and looked its block up: 4.8 s against 2.4 s
# of the shell's CPU at a million); to PostgreSQL it is an ordinary join. (Bringing both
# patients' facts with each pair in this statement saved no CPU on SQLite and cost PostgreSQL
# 60 % more time at a million: docs/performance.md.)
_ALL_PAIRS = text(
    """
    WITH blocks AS (
        SELECT key FROM duplicate_match_keys WHERE organization_id = :org
        GROUP BY key HAVING COUNT(*) BETWEEN 2 AND :cap
    )
    SELECT DISTINCT a.user_id AS low, b.user_id AS high
    FROM blocks
    CROSS JOIN duplicate_match_keys a CROSS JOIN duplicate_match_keys b
    WHERE a.organization_id = :org AND a.key = blocks.key
        AND b.organization_id = :org AND b.key = blocks.key AND b.user_id > a.user_id
    ORDER BY low, high
    """
)
# The same cap as the full scan: a creation next to a clinic's phone shared by 100,000
# patients compares none of them (and finds nothing the next scan would remove); a block is
# counted only up to the cap + 1. Driven from these patients' keys (the ``user_id`` index):
# written as a join of the keys of the organization with these patients', SQLite's planner
# (without ANALYZE figures for the keys) walked every key of the organization for each patient
# (minutes for an import batch of 1,000 in an organization of 100,000). ``CROSS JOIN`` keeps
# SQLite's loops in the written order; to PostgreSQL it is an ordinary join. ``m`` names no
# organization on purpose: a patient's keys are their organization's, and the term would offer
# SQLite the primary key's scan of the whole organization again. (PostgreSQL:
# _PAIRS_OF_POSTGRESQL.) Both statements end with _WITHIN_CAP: the block of the patient's key
# ``m`` holds no more patients than the cap.
_WITHIN_CAP = """
      AND (
        SELECT COUNT(*) FROM (
            SELECT 1 FROM duplicate_match_keys c
            WHERE c.organization_id = :org AND c.key = m.key LIMIT :over
        ) AS block
      ) <= :cap
"""
_PAIRS_OF = text(
    """
    SELECT DISTINCT m.user_id AS mine, b.user_id AS other
    FROM duplicate_match_keys m CROSS JOIN duplicate_match_keys b
    WHERE m.user_id IN :ids
      AND b.organization_id = :org AND b.key = m.key AND b.user_id <> m.user_id
    """  # noqa: S608 (two constant texts, no value)
    + _WITHIN_CAP
).bindparams(bindparam("ids", expanding=True))
# PostgreSQL: the same pairs, in the same loops whatever the planner's figures say. As an
# ordinary join its order was left to the statistics, and without any (a database that has
# never been analyzed: a new one importing its practice's patients, autovacuum's ANALYZE
# coming only after a batch has committed) it walked every key of the organization and looked
# each up by ``key`` alone: 128 s for each half (500 patients) of a first import batch of
# 1,000 sharing a birthday, the same query 0.2 s driven from the patients' keys. The LATERAL
# subquery is driven from these patients' keys, and ``OFFSET 0`` keeps the planner from
# flattening it back into a join it may reorder. (How each block is counted is still the
# planner's: an import batch turns bitmap scans off, imports/service.py.)
_PAIRS_OF_POSTGRESQL = text(
    """
    SELECT DISTINCT m.user_id AS mine, o.user_id AS other
    FROM duplicate_match_keys m CROSS JOIN LATERAL (
        SELECT b.user_id FROM duplicate_match_keys b
        WHERE b.organization_id = :org AND b.key = m.key AND b.user_id <> m.user_id
        OFFSET 0
    ) AS o
    WHERE m.user_id IN :ids
    """  # noqa: S608 (two constant texts, no value)
    + _WITHIN_CAP
).bindparams(bindparam("ids", expanding=True))
# Patients per statement: PostgreSQL's estimate of the statement grows with them, and past
# about 1,000 it crossed jit_above_cost (JIT compiling then cost 0.7 s for a 0.5 s query).
_IN_CHUNK = 500


@dataclass(frozen=True)
class Found:
    """A likely duplicate pair: the two patients' ids (``user_id`` < ``other_user_id``)."""

    user_id: int
    other_user_id: int
    match: Match


def _score(
    connection: Connection,
    organization_id: int,
    pairs: list[tuple[int, int]],
    common: Mapping[int, int] | None = None,
) -> Iterator[Found]:
    """The pairs that match. How common the names are (``common``: :func:`common_names` of the
    organization; else counted here) is worked out for the patients of pairs that match with
    names counted rare only: it can only lower a match (a date of birth alone stops counting),
    and a scan compares a million patients, each name tally a few microseconds of folding and
    hashing."""
    people = load_people(connection, {i for pair in pairs for i in pair})
    matched: list[tuple[Person, Person, Match]] = []
    for low, high in pairs:
        a, b = people.get(low), people.get(high)
        match = compare(a, b) if a and b else None
        if a and b and match is not None:
            matched.append((a, b, match))
    if common is None:
        tallies = {t for a, b, _ in matched for p in (a, b) if (t := tally_of(p)) is not None}
        common = common_names(connection, organization_id, tallies)
    for a, b, rare in matched:
        counted_a, counted_b = counted(a, common), counted(b, common)
        if counted_a is a and counted_b is b:
            yield Found(a.id, b.id, rare)
        elif (match := compare(counted_a, counted_b)) is not None:
            yield Found(a.id, b.id, match)


def find_all(connection: Connection, organization_id: int) -> Iterator[Found]:
    """Every likely duplicate pair of an organization, streamed in batches."""
    # The organization's common names, counted once (a short walk of one tally per patient)
    # rather than for each batch.
    common = common_names(connection, organization_id)
    # Options on the statement: Connection.execution_options would change the connection.
    streamed = _ALL_PAIRS.execution_options(stream_results=True, yield_per=PAIR_BATCH)
    result = connection.execute(streamed, {"org": organization_id, "cap": MAX_BLOCK})
    for partition in result.partitions():
        yield from _score(
            connection, organization_id, [(row.low, row.high) for row in partition], common
        )


def pairs_of_statement(dialect: str) -> TextClause:
    """The statement :func:`find_for` sends for its patients' pairs on this database."""
    return _PAIRS_OF_POSTGRESQL if dialect == "postgresql" else _PAIRS_OF


def find_for(
    connection: Connection, organization_id: int, user_ids: Collection[int]
) -> list[Found]:
    """The likely duplicates of these patients among their organization's (each pair once)."""
    if not user_ids:
        return []
    ordered, found_pairs = sorted(user_ids), set[tuple[int, int]]()
    values = {"org": organization_id, "cap": MAX_BLOCK, "over": MAX_BLOCK + 1}
    statement = pairs_of_statement(connection.dialect.name)
    for start in range(0, len(ordered), _IN_CHUNK):
        rows = connection.execute(statement, {**values, "ids": ordered[start : start + _IN_CHUNK]})
        found_pairs.update((min(r.mine, r.other), max(r.mine, r.other)) for r in rows)
    pairs = sorted(found_pairs)
    found: list[Found] = []
    for start in range(0, len(pairs), PAIR_BATCH):
        found.extend(_score(connection, organization_id, pairs[start : start + PAIR_BATCH]))
    return found


@dataclass(frozen=True)
class Scanned:
    """A whole organization's read: the pairs recorded when it began, then what it found."""

    seen: dict[pairs.Pair, pairs.Recorded]
    found: list[Found]


def read_organization(connection: Connection, organization_id: int) -> Scanned:
    """Read a whole organization's scan (record it with :func:`record_scan`)."""
    # The recorded pairs first: one recorded after this is newer than the scan, never replaced.
    seen = pairs.recorded(connection, organization_id)
    return Scanned(seen, list(find_all(connection, organization_id)))


def record_scan(connection: Connection, organization_id: int, scanned: Scanned) -> int:
    """Record a scan: its pairs, and open pairs it saw and no longer found go; how many pairs."""
    return len(pairs.record(connection, organization_id, scanned.found, seen=scanned.seen))


def scan_organization(connection: Connection, organization_id: int) -> int:
    """Find and record every likely duplicate pair of an organization; returns how many."""
    return record_scan(connection, organization_id, read_organization(connection, organization_id))


def recheck(connection: Connection, organization_id: int, user_ids: Collection[int]) -> None:
    """After these patients' keyed facts changed: record their new matches and drop their open
    pairs that no longer match (a corrected record leaves the list). Dismissed pairs stay."""
    found = find_for(connection, organization_id, user_ids)
    pairs.record(connection, organization_id, found)
    still = {(f.user_id, f.other_user_id) for f in found}
    pairs.drop_unmatched(connection, organization_id, user_ids, still)


def person_of(found: Found, user_id: int) -> int:
    """The other patient of a pair, seen from ``user_id``."""
    return found.other_user_id if found.user_id == user_id else found.user_id


__all__ = [
    "Found",
    "Person",
    "Scanned",
    "find_all",
    "find_for",
    "read_organization",
    "recheck",
    "record_scan",
    "scan_organization",
]
