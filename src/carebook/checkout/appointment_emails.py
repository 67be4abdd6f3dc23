"""Appointments with their emails: the patient is told when one is booked or cancelled.

The scheduling domain books and cancels; this flow adds the patient's email, which their
notification settings may turn off (``send_email_on_appointment_book`` / ``_cancel``; the outbox
applies them). A patient without an email address gets none. Emails hold the appointment's id
only and are rendered at delivery from the current records.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.db.base import utcnow
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_email
from carebook.scheduling import appointments as scheduling
from carebook.scheduling.inputs import AppointmentChanges, NewAppointment
from carebook.scheduling.models import Appointment
from carebook.users.models import User


async def tell_patient(session: AsyncSession, row: Appointment, kind: EmailKind) -> None:
    """Queue the patient's email about ``row`` (unless they have no address)."""
    patient = await session.get(User, row.patient_id)
    if patient is None or not patient.email:
        return
    await queue_email(
        session,
        organization_id=row.organization_id,
        recipient_user_id=patient.id,
        kind=kind,
        params={"appointment_id": row.id},
    )


async def create_appointment(
    session: AsyncSession, *, actor: Actor, fields: NewAppointment
) -> Appointment:
    """Healthie's createAppointment, and the patient's "booked" email."""
    row = await scheduling.create_appointment(session, actor=actor, fields=fields)
    await tell_patient(session, row, EmailKind.APPOINTMENT_BOOKED)
    return row


async def update_appointment(
    session: AsyncSession, *, actor: Actor, fields: AppointmentChanges
) -> Appointment:
    """Healthie's updateAppointment, and the patient's "cancelled" email when it cancels."""
    started = utcnow()
    row = await scheduling.update_appointment(session, actor=actor, fields=fields)
    # cancelled_at is set once, when the appointment is cancelled: set during this call, it was
    # this change that cancelled it (cancelling it again changes nothing and tells no one).
    if row.cancelled_at is not None and row.cancelled_at >= started:
        await tell_patient(session, row, EmailKind.APPOINTMENT_CANCELLED)
    return row
