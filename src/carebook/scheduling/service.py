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

from carebook.auth.actor import Actor, require_staff
from carebook.db import lengths
from carebook.db.base import utcnow
from carebook.errors import Invalid, NotFound
from carebook.scheduling import queries
from carebook.scheduling.details import apply_details
from carebook.scheduling.events import emit_appointment_created
from carebook.scheduling.inputs import (
    AppointmentDetails,
    AppointmentTypeChanges,
    NewAppointmentType,
    NewOffering,
)
from carebook.scheduling.models import Appointment, AppointmentType, Offering
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
    row = AppointmentType(
        organization_id=actor.organization_id,
        user_id=actor.user_id,
        name=v.clean_label(fields.name, lengths.LABEL),
        length=_length(fields.length),
        price_cents=parse_price(fields.pricing, "pricing"),
        clients_can_book=fields.clients_can_book is not False,
    )
    session.add(row)
    await session.flush()
    return row


def _length(value: int | None) -> int:
    if value is None or not 1 <= int(value) <= MAX_LENGTH_MINUTES:
        raise Invalid.field("length", "Length must be between 1 and 1440 minutes")
    return int(value)


async def _type_to_change(session: AsyncSession, actor: Actor, raw: Any) -> AppointmentType:
    """The organization's (not deleted) appointment type named by ``id``, locked."""
    require_staff(actor)
    return await found(
        raw,
        lambda type_id: queries.get_type(session, actor.organization_id, type_id, lock=True),
        field="id",
        missing="Appointment type not found",
        blank=None,
    )


async def update_appointment_type(
    session: AsyncSession, *, actor: Actor, fields: AppointmentTypeChanges
) -> AppointmentType:
    """Healthie's updateAppointmentType: the given fields change. A new length applies to
    appointments booked from now on; booked ones keep their end."""
    row = await _type_to_change(session, actor, fields.id)
    if fields.name is not None:
        row.name = v.clean_label(fields.name, lengths.LABEL)
    if fields.length is not None:
        row.length = _length(fields.length)
    if fields.pricing is not None:
        row.price_cents = parse_price(fields.pricing, "pricing")
    if fields.clients_can_book is not None:
        row.clients_can_book = fields.clients_can_book
    await session.flush()
    return row


async def delete_appointment_type(
    session: AsyncSession, *, actor: Actor, type_id: Any
) -> AppointmentType:
    """Healthie's deleteAppointmentType: no longer listed or bookable; appointments of it stay
    as they are (their type still reads back)."""
    row = await _type_to_change(session, actor, type_id)
    row.deleted_at = utcnow()
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
    details: AppointmentDetails | None = None
    pm_status: str | None = None


async def provider_in_org(
    session: AsyncSession, organization_id: int | None, raw: Any, *, field: str = "provider_id"
) -> User:
    """The active provider/staff member named by ``raw`` (the input field ``field``)."""
    provider_id = v.parse_id(raw, field)
    if provider_id is None:
        raise Invalid.field(field, "Provider can't be blank")
    query = select(User).where(
        User.id == provider_id, User.role.in_(user_queries.STAFF_ROLES), User.active
    )
    if organization_id is not None:
        query = query.where(User.organization_id == organization_id)
    provider = (await session.execute(query)).scalar_one_or_none()
    if provider is None:
        raise NotFound.field(field, "Provider not found")
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
        pm_status=booking.pm_status,
    )
    if booking.details is not None:
        apply_details(row, booking.details)
    session.add(row)
    await session.flush()
    emit_appointment_created(session, row)
    return row


async def move(
    session: AsyncSession,
    row: Appointment,
    *,
    provider: User,
    appointment_type: AppointmentType,
    start: datetime,
    field: str = "datetime",
) -> None:
    """Reschedule ``row`` (time, provider or type) under ``book``'s guarantees: the provider's
    lock, then the overlap check (``row`` itself aside); the unique index backs both."""
    if row.cancelled_at is not None:
        raise Invalid.field(field, "A cancelled appointment cannot be rescheduled")
    if start != row.start and start <= utcnow():
        raise Invalid.field(field, "The appointment must start in the future")
    end = start + timedelta(minutes=appointment_type.length)
    await lock_provider(session, provider.id)
    if await queries.provider_busy(session, provider.id, start, end, besides=row.id):
        raise Invalid.field(field, SLOT_TAKEN)
    row.provider_id, row.appointment_type_id = provider.id, appointment_type.id
    row.start, row.end = start, end


def booking_zone(timezone: str | None, *fallbacks: str | None) -> str | None:
    """The zone of a local time: the input's, else the first fallback set (None: none known)."""
    zone = v.clean_timezone(timezone) if timezone else None
    return zone or next((z for z in fallbacks if z), None)
