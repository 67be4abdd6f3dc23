"""The webhook events of appointments: ``appointment.created``, ``.updated`` and ``.deleted``.

``appointment.created`` carries ``resource_organization_id`` as Healthie's reference shows it
(an ID, so a string). ``appointment.deleted`` follows ``deleteAppointment``; the appointment
stays readable with ``appointment(id, include_deleted: true)``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.events.changes import changed_attributes
from carebook.events.emit import emit
from carebook.scheduling.models import Appointment

APPOINTMENT_CREATED = "appointment.created"
APPOINTMENT_UPDATED = "appointment.updated"
APPOINTMENT_DELETED = "appointment.deleted"

# Column attribute -> the Appointment field of the API. cancelled_at follows pm_status.
WIRE_NAMES = {
    "pm_status": "pm_status",
    "start": "date",
    "end": "end",
    "provider_id": "provider",
    "patient_id": "user",
    "appointment_type_id": "appointment_type_id",
    "contact_type": "contact_type",
    "reason": "notes",
    "location": "location",
    "appointment_location_id": "appointment_location_id",
    "external_videochat_url": "external_videochat_url",
    "appointment_metadata": "metadata",
    "client_confirmed": "client_confirmed",
    "confirmed": "confirmed",
}


def appointment_changes(row: Appointment) -> list[str]:
    """The API names of the fields of ``row`` set to a new value and not flushed yet."""
    return changed_attributes(row, WIRE_NAMES)


def emit_appointment_created(session: AsyncSession, row: Appointment) -> None:
    """``appointment.created`` for a booked (flushed) appointment."""
    emit(
        session,
        organization_id=row.organization_id,
        event_type=APPOINTMENT_CREATED,
        resource_id=row.id,
        extra={"resource_organization_id": str(row.organization_id)},
    )


def emit_appointment_updated(session: AsyncSession, row: Appointment, changed: list[str]) -> None:
    """``appointment.updated`` listing ``changed``; nothing when nothing changed."""
    if changed:
        emit(
            session,
            organization_id=row.organization_id,
            event_type=APPOINTMENT_UPDATED,
            resource_id=row.id,
            changed_fields=changed,
        )


def emit_appointment_deleted(session: AsyncSession, row: Appointment) -> None:
    """``appointment.deleted`` for an appointment ``deleteAppointment`` removed."""
    emit(
        session,
        organization_id=row.organization_id,
        event_type=APPOINTMENT_DELETED,
        resource_id=row.id,
    )
