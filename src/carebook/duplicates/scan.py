"""Finding candidate pairs through the blocking keys, in SQL, and recording them.

:func:`scan_organization` compares every pair of an organization's active patients that share a
key (never all pairs): the database groups the keys, joins the small blocks and streams the pairs
in order; Python scores them a batch at a time, so memory holds one batch of pairs and the
matches found. :func:`check_patients` does the same for a few patients (a creation, an import
batch) through the same keys. Both record what they find in ``duplicate_pairs``; a dismissed pair
stays dismissed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from carebook.duplicates import pairs
from carebook.duplicates.matcher import Match, Person, compare
from carebook.duplicates.people import load_people

# A key shared by more patients than this is no evidence (a clinic's own phone number, a
# placeholder email): its block is skipped rather than compared pair by pair.
MAX_BLOCK = 50
PAIR_BATCH = 5000

_ALL_PAIRS = text(
    """
    WITH blocks AS (
        SELECT key FROM duplicate_match_keys WHERE organization_id = :org
        GROUP BY key HAVING COUNT(*) BETWEEN 2 AND :cap
    )
    SELECT DISTINCT a.user_id AS low, b.user_id AS high
    FROM blocks
    JOIN duplicate_match_keys a ON a.organization_id = :org AND a.key = blocks.key
    JOIN duplicate_match_keys b
        ON b.organization_id = :org AND b.key = blocks.key AND b.user_id > a.user_id
    ORDER BY low, high
    """
)
# The same cap as the full scan: a creation next to a clinic's phone shared by 100,000
# patients compares none of them (and finds nothing the next scan would remove). Three plain
# index look-ups instead of one join: given the join, SQLite's planner (without ANALYZE figures
# for the keys) walked every key of the organization for each patient of the batch (minutes for
# an import batch of 1,000 in an organization of 100,000).
_KEYS_OF = text(
    "SELECT user_id, key FROM duplicate_match_keys WHERE user_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_SMALL_BLOCKS = text(
    """
    SELECT key FROM duplicate_match_keys WHERE organization_id = :org AND key IN :keys
    GROUP BY key HAVING COUNT(*) <= :cap
    """
).bindparams(bindparam("keys", expanding=True))
_MEMBERS = text(
    "SELECT key, user_id FROM duplicate_match_keys WHERE organization_id = :org AND key IN :keys"
).bindparams(bindparam("keys", expanding=True))
# Values per IN list: under SQLite's and asyncpg's bound-parameter limits.
_IN_CHUNK = 5000


def _in_chunks(
    connection: Connection, statement: Any, name: str, values: Collection[int], **params: int
) -> list[Any]:
    ordered, rows = sorted(values), []
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        rows.extend(connection.execute(statement, {**params, name: chunk}).all())
    return rows


def _pairs_of(
    connection: Connection, organization_id: int, user_ids: Collection[int]
) -> list[tuple[int, int]]:
    """(low, high) of every pair of these patients with another sharing a small block."""
    org = {"org": organization_id}
    mine: dict[int, set[int]] = {}  # key -> these patients holding it
    for row in _in_chunks(connection, _KEYS_OF, "ids", user_ids, **org):
        mine.setdefault(row.key, set()).add(row.user_id)
    small = _in_chunks(connection, _SMALL_BLOCKS, "keys", mine, cap=MAX_BLOCK, **org)
    found: set[tuple[int, int]] = set()
    for row in _in_chunks(connection, _MEMBERS, "keys", {r.key for r in small}, **org):
        for user_id in mine[row.key]:
            if user_id != row.user_id:
                found.add((min(user_id, row.user_id), max(user_id, row.user_id)))
    return sorted(found)


@dataclass(frozen=True)
class Found:
    """A likely duplicate pair: the two patients' ids (``user_id`` < ``other_user_id``)."""

    user_id: int
    other_user_id: int
    match: Match


def _score(connection: Connection, pairs: list[tuple[int, int]]) -> Iterator[Found]:
    people = load_people(connection, {i for pair in pairs for i in pair})
    for low, high in pairs:
        a, b = people.get(low), people.get(high)
        match = compare(a, b) if a and b else None
        if match is not None:
            yield Found(low, high, match)


def find_all(connection: Connection, organization_id: int) -> Iterator[Found]:
    """Every likely duplicate pair of an organization, streamed in batches."""
    # Options on the statement: Connection.execution_options would change the connection.
    streamed = _ALL_PAIRS.execution_options(stream_results=True, yield_per=PAIR_BATCH)
    result = connection.execute(streamed, {"org": organization_id, "cap": MAX_BLOCK})
    for partition in result.partitions():
        yield from _score(connection, [(row.low, row.high) for row in partition])


def find_for(
    connection: Connection, organization_id: int, user_ids: Collection[int]
) -> list[Found]:
    """The likely duplicates of these patients among their organization's (each pair once)."""
    if not user_ids:
        return []
    pairs = _pairs_of(connection, organization_id, user_ids)
    found: list[Found] = []
    for start in range(0, len(pairs), PAIR_BATCH):
        found.extend(_score(connection, pairs[start : start + PAIR_BATCH]))
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


def check_patients(
    connection: Connection, organization_id: int, user_ids: Collection[int]
) -> list[Found]:
    """Find and record the likely duplicates of these patients (a creation, an import batch)."""
    found = find_for(connection, organization_id, user_ids)
    return pairs.record(connection, organization_id, found)


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
    "check_patients",
    "find_all",
    "find_for",
    "read_organization",
    "recheck",
    "record_scan",
    "scan_organization",
]
