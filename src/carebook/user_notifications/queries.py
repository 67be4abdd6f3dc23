"""Reads of the caller's own notifications."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.user_notifications.models import UserNotification


async def list_notifications(
    session: AsyncSession,
    actor: Actor,
    *,
    seen_status: bool | None,
    other_party_id: int | None,
    types: Sequence[str] | None,
    descending: bool,
    offset: int,
    limit: int,
) -> list[UserNotification]:
    """The actor's notifications, newest first by default."""
    query = select(UserNotification).where(UserNotification.recipient_id == actor.user_id)
    if seen_status is not None:
        query = query.where(
            UserNotification.seen_at.is_not(None)
            if seen_status
            else UserNotification.seen_at.is_(None)
        )
    if other_party_id is not None:
        query = query.where(UserNotification.patient_id == other_party_id)
    if types:
        query = query.where(UserNotification.kind.in_(list(types)))
    order = (
        (UserNotification.created_at.desc(), UserNotification.id.desc())
        if descending
        else (UserNotification.created_at.asc(), UserNotification.id.asc())
    )
    query = query.order_by(*order).offset(offset).limit(limit)
    return list((await session.execute(query)).scalars())
