"""Finding candidate pairs through the blocking keys, in SQL, and recording them.

:func:`scan_organization` compares every pair of an organization's active patients that share a
key (never all pairs): the database groups the keys, joins the small blocks and streams the pairs
in order; Python scores them a batch at a time, so memory holds one batch of pairs and the
matches found. :func:`check_patients` does the same for a few patients (a creation, an import
batch) through the same keys. Both record what they find in ``duplicate_pairs``; a dismissed pair
stays dismissed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, or_, select, text, update
from sqlalchemy.engine import Connection

from carebook.duplicates.matcher import Match, Person, compare
from carebook.duplicates.models import DuplicatePair
from carebook.duplicates.people import load_people

# A key shared by more patients than this is no evidence (a clinic's own phone number, a
# placeholder email): its block is skipped rather than compared pair by pair.
MAX_BLOCK = 50
PAIR_BATCH = 5000
REASON_SEPARATOR = "; "

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
# patients compares none of them (and finds nothing the next scan would remove).
_PAIRS_OF = text(
    """
    WITH blocks AS (
        SELECT key FROM duplicate_match_keys
        WHERE organization_id = :org AND key IN (
            SELECT key FROM duplicate_match_keys WHERE organization_id = :org AND user_id IN :ids
        )
        GROUP BY key HAVING COUNT(*) <= :cap
    )
    SELECT DISTINCT a.user_id AS mine, b.user_id AS other
    FROM blocks
    JOIN duplicate_match_keys a
        ON a.organization_id = :org AND a.key = blocks.key AND a.user_id IN :ids
    JOIN duplicate_match_keys b
        ON b.organization_id = :org AND b.key = blocks.key AND b.user_id <> a.user_id
    """
).bindparams(bindparam("ids", expanding=True))


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
    values = {"org": organization_id, "ids": list(user_ids), "cap": MAX_BLOCK}
    rows = connection.execute(_PAIRS_OF, values)
    pairs = sorted({(min(r.mine, r.other), max(r.mine, r.other)) for r in rows})
    found: list[Found] = []
    for start in range(0, len(pairs), PAIR_BATCH):
        found.extend(_score(connection, pairs[start : start + PAIR_BATCH]))
    return found


def _existing(
    connection: Connection, organization_id: int, only: set[int] | None
) -> dict[tuple[int, int], tuple[int, bool]]:
    """(low, high) -> (row id, dismissed) of the organization's recorded pairs (of ``only``)."""
    query = select(
        DuplicatePair.id,
        DuplicatePair.user_id,
        DuplicatePair.other_user_id,
        DuplicatePair.dismissed_at,
    ).where(DuplicatePair.organization_id == organization_id)
    if only is not None:
        query = query.where(DuplicatePair.user_id.in_(sorted(only)))
    return {
        (r.user_id, r.other_user_id): (r.id, r.dismissed_at is not None)
        for r in connection.execute(query)
    }


def record(
    connection: Connection,
    organization_id: int,
    found: Iterable[Found],
    *,
    replace_open: bool = False,
) -> list[Found]:
    """Write the pairs found; returns those not dismissed before.

    With ``replace_open`` (a whole organization's scan), open pairs no longer found go.
    """
    found = list(found)
    only = None if replace_open else {f.user_id for f in found}
    existing = _existing(connection, organization_id, only)
    fresh, kept = [], []
    for f in found:
        row = existing.pop((f.user_id, f.other_user_id), None)
        if row is not None and row[1]:
            continue
        kept.append(f)
        values = {"score": f.match.score, "reasons": REASON_SEPARATOR.join(f.match.reasons)}
        if row is None:
            fresh.append(
                {"organization_id": organization_id, "user_id": f.user_id}
                | {"other_user_id": f.other_user_id}
                | values
            )
        else:
            connection.execute(
                update(DuplicatePair).where(DuplicatePair.id == row[0]).values(**values)
            )
    for start in range(0, len(fresh), PAIR_BATCH):
        connection.execute(insert(DuplicatePair), fresh[start : start + PAIR_BATCH])
    stale = [row_id for row_id, dismissed in existing.values() if not dismissed]
    for start in range(0, len(stale) if replace_open else 0, PAIR_BATCH):
        chunk = stale[start : start + PAIR_BATCH]
        connection.execute(delete(DuplicatePair).where(DuplicatePair.id.in_(chunk)))
    return kept


def scan_organization(connection: Connection, organization_id: int) -> int:
    """Find and record every likely duplicate pair of an organization; returns how many."""
    found = find_all(connection, organization_id)
    return len(record(connection, organization_id, found, replace_open=True))


def check_patients(
    connection: Connection, organization_id: int, user_ids: Collection[int]
) -> list[Found]:
    """Find and record the likely duplicates of these patients (a creation, an import batch)."""
    return record(connection, organization_id, find_for(connection, organization_id, user_ids))


def recheck(connection: Connection, organization_id: int, user_ids: Collection[int]) -> None:
    """After these patients' keyed facts changed: record their new matches and drop their open
    pairs that no longer match (a corrected record leaves the list). Dismissed pairs stay."""
    found = find_for(connection, organization_id, user_ids)
    record(connection, organization_id, found)
    still = {(f.user_id, f.other_user_id) for f in found}
    ids = sorted(user_ids)
    query = select(DuplicatePair.id, DuplicatePair.user_id, DuplicatePair.other_user_id).where(
        DuplicatePair.organization_id == organization_id,
        DuplicatePair.dismissed_at.is_(None),
        or_(DuplicatePair.user_id.in_(ids), DuplicatePair.other_user_id.in_(ids)),
    )
    gone = [r.id for r in connection.execute(query) if (r.user_id, r.other_user_id) not in still]
    if gone:
        connection.execute(delete(DuplicatePair).where(DuplicatePair.id.in_(gone)))


def person_of(found: Found, user_id: int) -> int:
    """The other patient of a pair, seen from ``user_id``."""
    return found.other_user_id if found.user_id == user_id else found.user_id


__all__ = [
    "Found",
    "Person",
    "check_patients",
    "find_all",
    "find_for",
    "recheck",
    "scan_organization",
]
