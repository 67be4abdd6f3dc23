"""Marking in-app notifications seen.

Writing them is decided by the flows that change a patient (carebook.accounts.care_team).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.db.base import utcnow
from carebook.user_notifications.models import UserNotification


async def mark_seen_from_patient(session: AsyncSession, *, actor: Actor, patient_id: int) -> int:
    """Mark the actor's unseen notifications about this patient as seen; how many changed."""
    result = await session.execute(
        update(UserNotification)
        .where(
            UserNotification.recipient_id == actor.user_id,
            UserNotification.patient_id == patient_id,
            UserNotification.seen_at.is_(None),
        )
        .values(seen_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
