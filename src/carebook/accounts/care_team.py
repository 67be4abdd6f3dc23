"""A patient's care team: telling their providers (in-app notifications) of a change.

A flow: createClient's and updateUser's service (accounts.service) and completeCheckout
(carebook.checkout) notify the primary provider and the further providers of the care team.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
