"""Writing in-app notifications, and marking them seen."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.db.base import utcnow
from carebook.user_notifications.models import NotificationKind, UserNotification
from carebook.users.models import CareTeamMember, User


async def notify_providers(
    session: AsyncSession,
    *,
    patient: User,
    kind: NotificationKind,
    appointment_id: int | None = None,
    provider_ids: list[int] | None = None,
) -> None:
    """Notify the patient's providers (primary and care team, or the ones given)."""
    if provider_ids is None:
        team = await session.execute(
            select(CareTeamMember.provider_id).where(CareTeamMember.patient_id == patient.id)
        )
        provider_ids = [pid for pid in [patient.dietitian_id, *team.scalars()] if pid is not None]
    for provider_id in dict.fromkeys(provider_ids):
        session.add(
            UserNotification(
                organization_id=patient.organization_id,
                recipient_id=provider_id,
                patient_id=patient.id,
                kind=kind.value,
                appointment_id=appointment_id,
            )
        )
    await session.flush()


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
