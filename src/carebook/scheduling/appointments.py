"""Writes of appointments: Healthie's createAppointment, updateAppointment, deleteAppointment.

Booking and rescheduling go through ``service.book`` and ``service.move``, which hold the
double-booking guarantees (the provider's lock, the overlap check, the unique index).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import Target
from carebook.audit.trail import record_write
from carebook.auth.actor import Actor, require_staff
from carebook.db import lengths
from carebook.db.base import utcnow
from carebook.errors import Invalid
from carebook.scheduling import queries
from carebook.scheduling.details import apply_details, one_attendee, start_text
from carebook.scheduling.events import (
    appointment_changes,
    emit_appointment_deleted,
    emit_appointment_updated,
)
from carebook.scheduling.inputs import AppointmentChanges, NewAppointment
from carebook.scheduling.locations import chosen_location
from carebook.scheduling.models import CANCELLED, Appointment, AppointmentType
from carebook.scheduling.service import (
    Booking,
    appointment_type_in_org,
    book,
    booking_zone,
    move,
    provider_in_org,
)
from carebook.scheduling.times import parse_start
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.lookup import found
from carebook.users.models import User

PATIENT_MAY = "Patients can only cancel or confirm their appointments"


async def _record(session: AsyncSession, row: Appointment) -> None:
    """A patient's appointments are part of their record: a write of one is an update."""
    await record_write(session, [Target(row.patient_id, row.organization_id)], action="update")


async def _patient(session: AsyncSession, actor: Actor, raw: Any, field: str) -> User:
    return await found(
        raw,
        lambda patient_id: user_queries.get_visible_patient(session, actor, patient_id),
        field=field,
        missing="User not found",
        blank=None,
    )


def _provider_choice(fields: NewAppointment | AppointmentChanges) -> tuple[Any, str]:
    """The provider asked for and its field: other_party_id (Healthie's 1:1 provider), else
    providers."""
    if fields.other_party_id not in (None, ""):
        return fields.other_party_id, "other_party_id"
    return fields.providers, "providers"


def _status(raw: str | None) -> str | None:
    """A status as stored: 'Cancelled' in Healthie's spelling whatever the case given."""
    status = v.clean_text("pm_status", raw, limit=lengths.PM_STATUS)
    return CANCELLED if status and status.lower() == CANCELLED.lower() else status


async def create_appointment(
    session: AsyncSession, *, actor: Actor, fields: NewAppointment
) -> Appointment:
    """A provider/staff member books a patient (Healthie's createAppointment)."""
    require_staff(actor)
    raw_patient = fields.user_id or one_attendee(fields.attendee_ids)
    patient = await _patient(session, actor, raw_patient, "user_id")
    raw_provider, provider_field = _provider_choice(fields)
    provider = await provider_in_org(
        session, actor.organization_id, raw_provider or actor.user_id, field=provider_field
    )
    appointment_type = await appointment_type_in_org(
        session, actor.organization_id, fields.appointment_type_id
    )
    status = _status(fields.pm_status)
    if status == CANCELLED:
        raise Invalid.field("pm_status", "A new appointment cannot be cancelled")
    zone = booking_zone(fields.timezone, provider.timezone, patient.timezone)
    field = "datetime" if fields.datetime is not None or fields.date is None else "date"
    booking = Booking(
        organization_id=actor.organization_id,
        provider=provider,
        patient=patient,
        appointment_type=appointment_type,
        start=parse_start(start_text(fields), zone, field),
        timezone=zone or "UTC",
        details=fields,
        pm_status=status,
    )
    place = await chosen_location(session, actor, fields.appointment_location_id)
    row = await book(session, booking, field=field)
    if place is not None:
        row.appointment_location_id = place.id
        await session.flush()
    await _record(session, row)
    return row


async def _reschedule(
    session: AsyncSession, actor: Actor, row: Appointment, fields: AppointmentChanges
) -> None:
    """A new time, provider or type: moved under the booking guarantees (service.move)."""
    raw_provider, provider_field = _provider_choice(fields)
    text = start_text(fields)
    if raw_provider in (None, "") and fields.appointment_type_id is None and text is None:
        return
    provider = await provider_in_org(
        session, actor.organization_id, raw_provider or row.provider_id, field=provider_field
    )
    if fields.appointment_type_id is not None:
        kind = await appointment_type_in_org(
            session, actor.organization_id, fields.appointment_type_id
        )
    else:  # the appointment's own type, even one deleted since
        kind = await session.get_one(AppointmentType, row.appointment_type_id)
    field = "datetime" if fields.datetime is not None or fields.date is None else "date"
    zone = booking_zone(fields.timezone, row.timezone)
    start = row.start if text is None else parse_start(text, zone, field)
    await move(session, row, provider=provider, appointment_type=kind, start=start, field=field)
    if text is not None and zone:
        row.timezone = zone


def _only_patient_fields(fields: AppointmentChanges) -> bool:
    """Whether ``fields`` holds only what a patient may change: cancel, confirm."""
    status = _status(fields.pm_status)
    others = [
        value
        for name in fields.__dataclass_fields__
        if name not in ("id", "pm_status", "client_confirmed")
        and (value := getattr(fields, name)) is not None
    ]
    return not others and status in (None, CANCELLED)


async def update_appointment(
    session: AsyncSession, *, actor: Actor, fields: AppointmentChanges
) -> Appointment:
    """Healthie's updateAppointment: a status (``Cancelled`` cancels), a new time, provider,
    type or patient, and the details. A patient may only cancel or confirm their own."""
    row = await found(
        fields.id,
        lambda appointment_id: queries.get_visible_appointment(
            session, actor, appointment_id, for_update=True
        ),
        field="id",
        missing="Appointment not found",
        blank=None,
    )
    if actor.is_patient and not _only_patient_fields(fields):
        raise Invalid.field("pm_status", PATIENT_MAY)
    await _record(session, row)  # in the same transaction: a refusal below rolls it back
    raw_patient = fields.user_id or one_attendee(fields.attendee_ids)
    if raw_patient:
        row.patient_id = (await _patient(session, actor, raw_patient, "user_id")).id
        await _record(session, row)  # the new patient's record changes too
    await _reschedule(session, actor, row, fields)
    apply_details(row, fields)
    if fields.appointment_location_id is not None:
        place = await chosen_location(session, actor, fields.appointment_location_id)
        row.appointment_location_id = None if place is None else place.id
    _set_status(row, _status(fields.pm_status))
    emit_appointment_updated(session, row, appointment_changes(row))
    await session.flush()
    return row


def _set_status(row: Appointment, status: str | None) -> None:
    if status is None:
        return
    cancel = status == CANCELLED
    if row.cancelled_at is not None and not cancel:
        raise Invalid.field("pm_status", "A cancelled appointment cannot be reopened")
    row.pm_status = status
    if cancel and row.cancelled_at is None:
        row.cancelled_at = utcnow()


async def delete_appointment(session: AsyncSession, *, actor: Actor, raw_id: Any) -> Appointment:
    """Healthie's deleteAppointment: the appointment is gone from every list and its slot is
    free; ``appointment(id, include_deleted: true)`` still reads it."""
    require_staff(actor)
    row = await found(
        raw_id,
        lambda appointment_id: queries.get_visible_appointment(
            session, actor, appointment_id, for_update=True
        ),
        field="id",
        missing="Appointment not found",
        blank=None,
    )
    now = utcnow()
    row.deleted_at = now
    if row.cancelled_at is None:
        row.cancelled_at = now  # frees the slot: the index and the overlap check skip it
    await _record(session, row)
    emit_appointment_deleted(session, row)
    await session.flush()
    return row
