"""Writes of appointment types, offerings and appointments.

Double booking: every booking first locks the provider's row (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite write transactions already hold the database's single write lock, see
db/engine.py) and then checks for an overlapping appointment, so two bookings of one provider
are serialized. The unique index on (provider_id, start) of the appointments that are not
cancelled backs this up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import Target
from carebook.audit.trail import record_write
from carebook.auth.actor import Actor, require_staff
from carebook.db import lengths
from carebook.db.base import utcnow
from carebook.errors import Invalid, NotFound
from carebook.scheduling import queries
from carebook.scheduling.events import (
    appointment_changes,
    emit_appointment_created,
    emit_appointment_updated,
)
from carebook.scheduling.inputs import (
    AppointmentChanges,
    NewAppointment,
    NewAppointmentType,
    NewOffering,
)
from carebook.scheduling.models import CANCELLED, Appointment, AppointmentType, Offering
from carebook.scheduling.times import parse_start
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.lookup import found
from carebook.users.models import User

SLOT_TAKEN = "This time is no longer available with this provider; please pick another time"
MAX_LENGTH_MINUTES = 24 * 60


def parse_price(value: Any, field: str) -> int:
    """A price such as "120" or "99.50" in cents; blank is free."""
    text = str(value if value is not None else "").strip().lstrip("$")
    if not text:
        return 0
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid.field(field, f"'{text[:20]}' is not a price") from None
    if amount < 0 or amount > Decimal("1000000") or amount != round(amount, 2):
        raise Invalid.field(field, "A price is between 0 and 1,000,000 with at most 2 decimals")
    return int(amount * 100)


async def create_appointment_type(
    session: AsyncSession, *, actor: Actor, fields: NewAppointmentType
) -> AppointmentType:
    """A new appointment type of the actor's organization (Healthie's createAppointmentType)."""
    require_staff(actor)
    name = v.clean_label(fields.name, lengths.LABEL)
    length = fields.length
    if length is None or not 1 <= int(length) <= MAX_LENGTH_MINUTES:
        raise Invalid.field("length", "Length must be between 1 and 1440 minutes")
    row = AppointmentType(
        organization_id=actor.organization_id,
        user_id=actor.user_id,
        name=name,
        length=int(length),
        price_cents=parse_price(fields.pricing, "pricing"),
        clients_can_book=fields.clients_can_book is not False,
    )
    session.add(row)
    await session.flush()
    return row


async def create_offering(session: AsyncSession, *, actor: Actor, fields: NewOffering) -> Offering:
    """A new offering of the actor's organization (Healthie's createOffering)."""
    require_staff(actor)
    row = Offering(
        organization_id=actor.organization_id,
        user_id=actor.user_id,
        name=v.clean_label(fields.name, lengths.LABEL),
        description=v.clean_text(
            "description", fields.description, limit=lengths.OFFERING_DESCRIPTION
        ),
        price_cents=parse_price(fields.price, "price"),
        billing_frequency=v.clean_text(
            "billing_frequency", fields.billing_frequency, limit=lengths.BILLING_FREQUENCY
        )
        or "Once",
    )
    session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True)
class Booking:
    """What a new appointment needs, already resolved to rows of one organization."""

    organization_id: int
    provider: User
    patient: User
    appointment_type: AppointmentType
    start: datetime
    timezone: str
    contact_type: str | None = None
    reason: str | None = None


async def provider_in_org(session: AsyncSession, organization_id: int | None, raw: Any) -> User:
    """The active provider/staff member named by ``provider_id``."""
    provider_id = v.parse_id(raw, "provider_id")
    if provider_id is None:
        raise Invalid.field("provider_id", "Provider can't be blank")
    query = select(User).where(
        User.id == provider_id, User.role.in_(user_queries.STAFF_ROLES), User.active
    )
    if organization_id is not None:
        query = query.where(User.organization_id == organization_id)
    provider = (await session.execute(query)).scalar_one_or_none()
    if provider is None:
        raise NotFound.field("provider_id", "Provider not found")
    return provider


async def appointment_type_in_org(
    session: AsyncSession, organization_id: int, raw: Any
) -> AppointmentType:
    """The appointment type named by ``appointment_type_id`` in the organization."""
    return await found(
        raw,
        lambda type_id: queries.get_type(session, organization_id, type_id),
        field="appointment_type_id",
        missing="Appointment type not found",
        blank=None,
    )


async def lock_provider(session: AsyncSession, provider_id: int) -> None:
    """The per-provider booking lock: concurrent bookings of this provider wait here.

    FOR NO KEY UPDATE, not FOR UPDATE: inserting rows that reference the provider (a patient's
    dietitian_id, an appointment's provider_id) takes FOR KEY SHARE on it, which FOR UPDATE
    would conflict with and deadlock two checkouts. SQLite ignores the clause; its write
    transactions are already serialized (BEGIN IMMEDIATE).
    """
    query = select(User.id).where(User.id == provider_id)
    # key_share=True without read is FOR NO KEY UPDATE on PostgreSQL.
    await session.execute(query.with_for_update(key_share=True))


async def book(session: AsyncSession, booking: Booking, *, field: str = "datetime") -> Appointment:
    """Create the appointment unless it is in the past or the provider is busy then."""
    if booking.start <= utcnow():
        raise Invalid.field(field, "The appointment must start in the future")
    end = booking.start + timedelta(minutes=booking.appointment_type.length)
    await lock_provider(session, booking.provider.id)
    if await queries.provider_busy(session, booking.provider.id, booking.start, end):
        raise Invalid.field(field, SLOT_TAKEN)
    row = Appointment(
        organization_id=booking.organization_id,
        provider_id=booking.provider.id,
        patient_id=booking.patient.id,
        appointment_type_id=booking.appointment_type.id,
        start=booking.start,
        end=end,
        timezone=booking.timezone,
        contact_type=booking.contact_type,
        reason=booking.reason,
    )
    session.add(row)
    await session.flush()
    emit_appointment_created(session, row)
    return row


def booking_zone(timezone: str | None, *fallbacks: str | None) -> str | None:
    """The zone of a local time: the input's, else the first fallback set (None: none known)."""
    zone = v.clean_timezone(timezone) if timezone else None
    return zone or next((z for z in fallbacks if z), None)


async def _record(session: AsyncSession, row: Appointment) -> None:
    """A patient's appointments are part of their record: a write of one is an update."""
    await record_write(session, [Target(row.patient_id, row.organization_id)], action="update")


async def create_appointment(
    session: AsyncSession, *, actor: Actor, fields: NewAppointment
) -> Appointment:
    """A provider/staff member books a patient (Healthie's createAppointment)."""
    require_staff(actor)
    patient = await found(
        fields.user_id,
        lambda patient_id: user_queries.get_visible_patient(session, actor, patient_id),
        field="user_id",
        missing="User not found",
        blank=None,
    )
    provider = await provider_in_org(
        session, actor.organization_id, fields.providers or actor.user_id
    )
    appointment_type = await appointment_type_in_org(
        session, actor.organization_id, fields.appointment_type_id
    )
    zone = booking_zone(fields.timezone, provider.timezone, patient.timezone)
    start = parse_start(fields.datetime, zone, "datetime")
    booking = Booking(
        organization_id=actor.organization_id,
        provider=provider,
        patient=patient,
        appointment_type=appointment_type,
        start=start,
        timezone=zone or "UTC",
        contact_type=v.clean_text("contact_type", fields.contact_type, limit=lengths.CONTACT_TYPE),
        reason=v.clean_text("notes", fields.notes, limit=lengths.APPOINTMENT_REASON),
    )
    row = await book(session, booking)
    await _record(session, row)
    return row


async def update_appointment(
    session: AsyncSession, *, actor: Actor, fields: AppointmentChanges
) -> Appointment:
    """Cancel (``pm_status: "Cancelled"``) or set another status (Healthie's updateAppointment).

    A patient may only cancel their own appointments. Rescheduling is not supported yet: book
    a new appointment and cancel the old one.
    """
    row = await found(
        fields.id,
        lambda appointment_id: queries.get_visible_appointment(
            session, actor, appointment_id, for_update=True
        ),
        field="id",
        missing="Appointment not found",
        blank=None,
    )
    if fields.datetime is not None:
        raise Invalid.field("datetime", "Rescheduling is not supported: cancel and book again")
    status = v.clean_text("pm_status", fields.pm_status, limit=lengths.PM_STATUS)
    await _record(session, row)  # in the same transaction: a refusal below rolls it back
    if status is None:
        return row
    cancel = status.lower() == CANCELLED.lower()
    if actor.is_patient and not cancel:
        raise Invalid.field("pm_status", "Patients can only cancel their appointments")
    if row.cancelled_at is not None and not cancel:
        raise Invalid.field("pm_status", "A cancelled appointment cannot be reopened")
    row.pm_status = CANCELLED if cancel else status
    if cancel and row.cancelled_at is None:
        row.cancelled_at = utcnow()
    emit_appointment_updated(session, row, appointment_changes(row))
    await session.flush()
    return row
