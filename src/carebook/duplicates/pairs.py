"""Recording candidate pairs in ``duplicate_pairs``, safe next to concurrent writers.

A whole organization's scan reads in one transaction and records in another, while creations
and updates keep recording pairs. So a scan only replaces what it saw: the pairs recorded when
its read began (:func:`recorded`, read first), each written or deleted only if unchanged since
(same ``updated_at``): a pair a check recorded or corrected during the scan is the newer word.
Inserts skip a pair that another transaction recorded meanwhile (the unique constraint).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    Table,
    bindparam,
    column,
    delete,
    func,
    literal_column,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import TextualSelect

from carebook.db.base import utcnow
from carebook.db.many_rows import insert_rows
from carebook.db.types import UTCDateTime
from carebook.duplicates.models import DuplicatePair

if TYPE_CHECKING:
    from carebook.duplicates.scan import Found

BATCH = 5000
REASON_SEPARATOR = "; "
Pair = tuple[int, int]


@dataclass(frozen=True)
class Recorded:
    """A recorded pair as read: what a later write compares against."""

    id: int
    dismissed: bool
    updated_at: datetime
    score: float
    reasons: str


# Built once (a creation's check asks on every createClient; building these took a few per
# cent of one on PostgreSQL, py-spy): the organization's pairs.
_COLUMNS = tuple(DuplicatePair.__table__.columns)
_RECORDED = select(*_COLUMNS).where(DuplicatePair.organization_id == bindparam("org"))
# Pairs a statement asks for on SQLite: two parameters each, under the 999 of older builds.
SQLITE_CHUNK = 256


# The pairs as two arrays, side by side, joined pair by pair: one index probe each. Asked as
# "user_id IN lows AND other_user_id IN highs", both databases probed the index for every low
# with every high: 0.2 s (SQLite) and 0.7 s (PostgreSQL) for an import batch's 1,000 pairs,
# against 1-2 ms joined. The pair is looked up in a LATERAL subquery that OFFSET 0 keeps apart
# (PostgreSQL cannot flatten it into a join it may reorder): as a plain join, on statistics
# taken while the table was nearly empty, PostgreSQL walked all the organization's pairs and ran
# the arrays for each (2-3 s an import batch at 100,000 pairs, rising with every import).
_WANTED = (
    func.unnest(
        bindparam("lows", type_=postgresql.ARRAY(Integer)),
        bindparam("highs", type_=postgresql.ARRAY(Integer)),
    )
    .table_valued("lo", "hi")
    .render_derived(name="wanted")
)
_PAIR_OF_WANTED = (
    select(*_COLUMNS)
    .where(
        DuplicatePair.organization_id == bindparam("org"),
        DuplicatePair.user_id == _WANTED.c.lo,
        DuplicatePair.other_user_id == _WANTED.c.hi,
    )
    .offset(literal_column("0"))
    .lateral("found")
)
_AMONG_ARRAYS = select(*_PAIR_OF_WANTED.c).select_from(_WANTED).join(_PAIR_OF_WANTED, true())


@lru_cache(maxsize=16)
def _among_values(size: int) -> TextualSelect:
    """SQLite's form (no arrays): the pairs as a VALUES list of ``size`` rows, a power of two so
    that a few statements serve every count. Written as text: SQLAlchemy's own VALUES construct
    was compiled again on every execution (a second a 10,000-row import, py-spy)."""
    rows = ", ".join(f"(:lo{i}, :hi{i})" for i in range(size))
    names = ", ".join(f"duplicate_pairs.{c.name}" for c in _COLUMNS)
    sql = (
        f"WITH wanted(lo, hi) AS (VALUES {rows}) SELECT {names} FROM wanted"  # noqa: S608 - our names
        # CROSS JOIN: SQLite then keeps this order (the list outside, one probe per pair).
        " CROSS JOIN duplicate_pairs WHERE duplicate_pairs.organization_id = :org"
        " AND duplicate_pairs.user_id = wanted.lo AND duplicate_pairs.other_user_id = wanted.hi"
    )
    return text(sql).columns(*_COLUMNS)


def recorded(
    connection: Connection, organization_id: int, only: Collection[Pair] | None = None
) -> dict[Pair, Recorded]:
    """(low, high) -> the organization's recorded pairs (with ``only``, those of these pairs)."""
    if only is None:
        return _as_recorded(connection.execute(_RECORDED, {"org": organization_id}))
    wanted, found = sorted(set(only)), {}
    # In chunks: an import batch's pairs would pass tens of thousands of ids at once.
    arrays = connection.dialect.name == "postgresql"
    size = BATCH if arrays else SQLITE_CHUNK
    for start in range(0, len(wanted), size):
        chunk = wanted[start : start + size]
        found.update(_as_recorded(_among(connection, organization_id, chunk, arrays=arrays)))
    return {pair: found[pair] for pair in wanted if pair in found}


def _among(connection: Connection, organization_id: int, chunk: list[Pair], *, arrays: bool) -> Any:
    params: dict[str, Any] = {"org": organization_id}
    if arrays:
        params["lows"], params["highs"] = [low for low, _ in chunk], [high for _, high in chunk]
        return connection.execute(_AMONG_ARRAYS, params)
    size = 1 << (len(chunk) - 1).bit_length()
    padded = chunk + [chunk[-1]] * (size - len(chunk))  # a pair asked twice is found once
    for i, (low, high) in enumerate(padded):
        params[f"lo{i}"], params[f"hi{i}"] = low, high
    return connection.execute(_among_values(size), params)


def _as_recorded(rows: Iterable[Any]) -> dict[Pair, Recorded]:
    return {
        (r.user_id, r.other_user_id): Recorded(
            r.id, r.dismissed_at is not None, r.updated_at, r.score, r.reasons
        )
        for r in rows
    }


def _insert(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert new pairs (:data:`_NEW_COLUMNS`' values); one recorded meanwhile by another
    transaction is left as it is. One statement per 10,000 pairs on PostgreSQL (an import
    batch's check can find thousands), not one execution per pair."""
    insert_rows(connection, _PAIRS, _NEW_COLUMNS, rows, convert=True, skip_conflicts=_UNIQUE)


_PAIRS: Table = DuplicatePair.__table__  # type: ignore[assignment]
_NEW_COLUMNS = (
    "organization_id", "user_id", "other_user_id", "score", "reasons", "created_at", "updated_at",
)  # fmt: skip
_UNIQUE = ("organization_id", "user_id", "other_user_id")

_UNCHANGED = (
    DuplicatePair.id == bindparam("pair_id"),
    DuplicatePair.updated_at == bindparam("seen"),
)
_REWRITE = (
    update(DuplicatePair)
    .where(*_UNCHANGED)
    .values(score=bindparam("new_score"), reasons=bindparam("new_reasons"))
)
_DROP = delete(DuplicatePair).where(*_UNCHANGED)
# PostgreSQL's form: every pair of the call in one statement, the values as arrays side by
# side (an import batch's check confirms thousands, one execution each cost more than the
# rewrite). The same condition per pair: unchanged since it was read.
_GIVEN = (
    func.unnest(
        bindparam("pair_ids", type_=postgresql.ARRAY(Integer)),
        bindparam("seens", type_=postgresql.ARRAY(UTCDateTime())),
        bindparam("new_scores", type_=postgresql.ARRAY(Float)),
        bindparam("new_reasons", type_=postgresql.ARRAY(String)),
    )
    .table_valued(
        column("pair_id", Integer),
        column("seen", UTCDateTime()),
        column("score", Float),
        column("reasons", String),
    )
    .render_derived(name="given")
)
_REWRITE_ARRAYS = (
    update(DuplicatePair)
    .where(DuplicatePair.id == _GIVEN.c.pair_id, DuplicatePair.updated_at == _GIVEN.c.seen)
    .values(score=_GIVEN.c.score, reasons=_GIVEN.c.reasons)
)


def _rewrite(connection: Connection, changed: list[dict[str, Any]]) -> None:
    """Rewrite each pair's score and reasons (and ``updated_at``) if unchanged since read."""
    if connection.dialect.name != "postgresql":
        connection.execute(_REWRITE, changed)
        return
    # By id: with the plan PostgreSQL takes for a few thousand ids (the array drives a loop
    # over the primary key) two writers confirming the same pairs lock them in one order; no
    # plan is forced, so a deadlock stays possible, as it was with one UPDATE per pair: one
    # of the two fails (a request is retried, docs/security.md; an import batch is reported).
    changed = sorted(changed, key=lambda row: row["pair_id"])
    for start in range(0, len(changed), BATCH):
        chunk = changed[start : start + BATCH]
        connection.execute(
            _REWRITE_ARRAYS,
            {
                "pair_ids": [row["pair_id"] for row in chunk],
                "seens": [row["seen"] for row in chunk],
                "new_scores": [row["new_score"] for row in chunk],
                "new_reasons": [row["new_reasons"] for row in chunk],
            },
        )


def record(
    connection: Connection,
    organization_id: int,
    found: Iterable[Found],
    *,
    seen: dict[Pair, Recorded] | None = None,
) -> list[Found]:
    """Write the pairs found; returns those not dismissed.

    With ``seen`` (a whole organization's scan: the pairs recorded when its read began), the
    open pairs seen and no longer found go, unless changed since.
    """
    found = list(found)
    existing = dict(
        seen
        if seen is not None
        else recorded(connection, organization_id, {(f.user_id, f.other_user_id) for f in found})
    )
    fresh: list[tuple[Any, ...]] = []
    changed, kept = [], []
    now = utcnow()
    for f in found:
        row = existing.pop((f.user_id, f.other_user_id), None)
        if row is not None and row.dismissed:
            continue
        kept.append(f)
        reasons = REASON_SEPARATOR.join(f.match.reasons)
        if row is None:
            fresh.append(
                (organization_id, f.user_id, f.other_user_id, f.match.score, reasons, now, now)
            )
        elif seen is None or (row.score, row.reasons) != (f.match.score, reasons):
            # A check touches the pairs it confirms (a scan that read before must not drop
            # them); a scan rewrites only what changed.
            changed.append(
                {"pair_id": row.id, "seen": row.updated_at}
                | {"new_score": f.match.score, "new_reasons": reasons}
            )
    _insert(connection, fresh)
    if changed:
        _rewrite(connection, changed)
    stale = [{"pair_id": r.id, "seen": r.updated_at} for r in existing.values() if not r.dismissed]
    if seen is not None and stale:
        connection.execute(_DROP, stale)
    return kept


# Built once, the ids bound (expanding): built per call, their cache keys (a walk of the
# whole statement) cost an updateClient about 3 % of its CPU (py-spy, docs/performance.md).
# Two look-ups, one per side, each on its index. Written as one OR, SQLite walked every open
# pair of the organization (the list's index) for each updated patient: 7-17 ms of an
# updateClient of a 20,000-patient practice, inside its write transaction.
_PAIR_COLUMNS = (DuplicatePair.id, DuplicatePair.user_id, DuplicatePair.other_user_id)
_OPEN_PAIRS = (
    DuplicatePair.organization_id == bindparam("organization_id"),
    DuplicatePair.dismissed_at.is_(None),
)
_OPEN_PAIRS_OF = union_all(
    select(*_PAIR_COLUMNS).where(
        *_OPEN_PAIRS, DuplicatePair.user_id.in_(bindparam("ids", expanding=True))
    ),
    select(*_PAIR_COLUMNS).where(
        *_OPEN_PAIRS, DuplicatePair.other_user_id.in_(bindparam("ids", expanding=True))
    ),
)
_DELETE_PAIRS = delete(DuplicatePair).where(DuplicatePair.id.in_(bindparam("gone", expanding=True)))


def drop_unmatched(
    connection: Connection, organization_id: int, user_ids: Collection[int], still: set[Pair]
) -> None:
    """Delete the open pairs of these patients that are not in ``still`` (no longer matching)."""
    found = connection.execute(
        _OPEN_PAIRS_OF, {"organization_id": organization_id, "ids": sorted(user_ids)}
    )
    gone = sorted({r.id for r in found if (r.user_id, r.other_user_id) not in still})
    if gone:
        connection.execute(_DELETE_PAIRS, {"gone": gone})
