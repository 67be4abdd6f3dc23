"""Reads of candidate pairs: the staff list, one organization's open pairs, best first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.duplicates.models import DuplicatePair
from carebook.users.models import User

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


def _open_pairs(actor: Actor) -> list[ColumnElement[bool]]:
    """The conditions of the pairs ``actor`` may list: its organization's, not dismissed, both
    patients still active (an archived or merged record is no longer a candidate).

    Patients never list pairs (the root fields are staff only); the organization is the whole
    visibility rule for providers and staff (users/scoping.py::sees_every_patient).
    """
    # Correlated: one primary-key probe per pair, not a scan of the organization's patients.
    return [
        DuplicatePair.organization_id == actor.organization_id,
        DuplicatePair.dismissed_at.is_(None),
        exists().where(User.id == DuplicatePair.user_id, User.active),
        exists().where(User.id == DuplicatePair.other_user_id, User.active),
    ]


async def open_pairs(
    session: AsyncSession, actor: Actor, *, offset: int, limit: int
) -> Sequence[DuplicatePair]:
    """One page of the organization's open pairs, highest score first (then oldest)."""
    query = (
        select(DuplicatePair)
        .where(*_open_pairs(actor))
        .order_by(DuplicatePair.score.desc(), DuplicatePair.id)
        .offset(offset)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def open_pair_count(session: AsyncSession, actor: Actor) -> int:
    """How many open pairs the organization has."""
    query = select(func.count()).select_from(DuplicatePair).where(*_open_pairs(actor))
    return int((await session.scalar(query)) or 0)


async def pair_in_org(session: AsyncSession, actor: Actor, pair_id: int) -> DuplicatePair | None:
    """A pair of the actor's organization (dismissed or not), else None."""
    query = select(DuplicatePair).where(
        DuplicatePair.id == pair_id, DuplicatePair.organization_id == actor.organization_id
    )
    return (await session.scalars(query)).first()
