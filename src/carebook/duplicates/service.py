"""Writes of duplicate detection: dismissing a pair, checking new patients, scans.

Services take a session first and a keyword-only actor, flush but never commit (the request
owns the transaction), and raise :class:`carebook.errors.Invalid` for what the caller got wrong.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor, require_staff
from carebook.db.base import utcnow
from carebook.duplicates import pairs, queries, scan
from carebook.duplicates.index import reindex
from carebook.duplicates.models import DuplicatePair
from carebook.users.lookup import found
from carebook.users.trail import record_ids

PAIR_NOT_FOUND = "Duplicate candidate not found"


async def dismiss_pair(session: AsyncSession, *, actor: Actor, pair_id: Any) -> DuplicatePair:
    """Mark a pair as not duplicates, for good: no later check or scan lists it again.

    Dismissing a dismissed pair changes nothing. Another organization's pair is not found.
    """
    require_staff(actor)
    pair = await found(
        pair_id,
        lambda i: queries.pair_in_org(session, actor, i),
        field="id",
        missing=PAIR_NOT_FOUND,
    )
    if pair.dismissed_at is None:
        pair.dismissed_at = utcnow()
        pair.dismissed_by_id = actor.user_id
        await session.flush()
        # A judgement about two patients' records: each gets an entry in the trail.
        organization = pair.organization_id
        await record_ids(
            session,
            [(pair.user_id, organization), (pair.other_user_id, organization)],
            action="update",
        )
    return pair


async def check_patients(
    session: AsyncSession, organization_id: int, user_ids: Collection[int]
) -> list[scan.Found]:
    """Find and record the likely duplicates of these (just written) patients.

    What a creation and an import batch call, in their own transaction, after their flush.
    """
    found = await find_pairs(session, organization_id, user_ids)
    return await record_pairs(session, organization_id, found)


async def find_pairs(
    session: AsyncSession, organization_id: int, user_ids: Collection[int]
) -> list[scan.Found]:
    """The likely duplicates of these (just written) patients, not recorded yet: the read half
    of :func:`check_patients`, for a caller that plans its reads and writes apart (imports)."""
    await session.flush()
    return await session.run_sync(
        lambda s: scan.find_for(s.connection(), organization_id, user_ids)
    )


async def record_pairs(
    session: AsyncSession, organization_id: int, found: Collection[scan.Found]
) -> list[scan.Found]:
    """Record pairs :func:`find_pairs` found; returns those not dismissed."""
    return await session.run_sync(lambda s: pairs.record(s.connection(), organization_id, found))


async def find_in_organization(session: AsyncSession, organization_id: int) -> scan.Scanned:
    """Every likely duplicate pair of an organization (a read: run it in a stream session, so
    the write lock is held only by :func:`record_found`)."""
    return await session.run_sync(lambda s: scan.read_organization(s.connection(), organization_id))


async def record_found(session: AsyncSession, organization_id: int, scanned: scan.Scanned) -> int:
    """Record a whole organization's scan; returns the count. Open pairs it saw and no longer
    found go; pairs recorded or changed since its read began stay (duplicates/pairs.py)."""
    return await session.run_sync(
        lambda s: scan.record_scan(s.connection(), organization_id, scanned)
    )


async def scan_organization(session: AsyncSession, organization_id: int) -> int:
    """Find and record every likely duplicate pair of an organization in one session."""
    scanned = await find_in_organization(session, organization_id)
    return await record_found(session, organization_id, scanned)


async def reindex_organization(session: AsyncSession, organization_id: int) -> int:
    """Rebuild the blocking keys of an organization's patients (after a bulk load)."""
    return await session.run_sync(lambda s: reindex(s.connection(), organization_id))
