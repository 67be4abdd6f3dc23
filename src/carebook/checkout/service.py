"""Healthie's completeCheckout: a patient books an appointment and/or buys an offering.

Called unauthenticated, everything but the email's owner is checked first (the patient's fields,
the time and its availability, the card, which is authorized), and only then the email decides: no
patient of the provider's organization has it, so a patient is created (with a welcome email to
set a password); one has it, so nothing is booked, the patient is told by email and the caller
gets a message that does not say whether the email has an account (carebook.accounts.enrollment).
Called by a signed-in patient, the booking is theirs.
The card's hold is captured last, just before the request's transaction commits, and released
when the checkout creates nothing: nothing is charged for a booking that failed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts import enrollment
from carebook.accounts.care_team import notify_providers
from carebook.accounts.changes import ChangeContext
from carebook.accounts.enrollment import AccountExists, Attempt
from carebook.auth.actor import Actor
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.checkout import appointment_emails, payments
from carebook.checkout.inputs import CheckoutRequest
from carebook.db import lengths
from carebook.db.base import utcnow
from carebook.errors import Invalid, NotFound
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_email
from carebook.organizations.models import Organization
from carebook.scheduling import queries as scheduling_queries
from carebook.scheduling import service as scheduling
from carebook.scheduling.events import emit_appointment_created
from carebook.scheduling.models import Appointment, AppointmentType, BillingItem, Offering
from carebook.scheduling.times import parse_start
from carebook.user_notifications.models import NotificationKind
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.events import emit_patient_created
from carebook.users.inputs import Profile
from carebook.users.lookup import found
from carebook.users.models import User
from carebook.users.trail import record_patients


@dataclass
class CheckoutResult:
    """What a checkout made."""

    patient: User
    appointment: Appointment | None
    billing_item: BillingItem | None


async def complete_checkout(
    session: AsyncSession,
    *,
    actor: Actor | None,
    passwords: Passwords,
    processor: payments.PaymentProvider | None,
    fields: CheckoutRequest,
    attempt: Attempt | None = None,
) -> CheckoutResult | AccountExists:
    """Book and/or buy; see the module docstring. ``attempt`` learns the target practice.

    ``processor`` charges the card (the app's, from settings); None refuses a checkout with a
    price.
    """
    if actor is not None and not actor.is_patient:
        raise Invalid.field(None, "completeCheckout is for patients; use createAppointment")
    wants_booking = fields.appointment_type_id not in (None, "")
    wants_offering = fields.offering_id not in (None, "")
    if not wants_booking and not wants_offering:
        raise Invalid.field("appointment_type_id", "Give appointment_type_id or offering_id")
    provider = (
        await _open_provider(session, fields.provider_id)
        if actor is None
        else await scheduling.provider_in_org(session, actor.organization_id, fields.provider_id)
    )
    org_id = provider.organization_id
    if attempt is not None:
        attempt.organization_id = org_id
    # Lock before anything references the provider, so concurrent checkouts queue up here.
    await scheduling.lock_provider(session, provider.id)
    offering = await _offering(session, org_id, fields.offering_id) if wants_offering else None
    booking_type = (
        await scheduling.appointment_type_in_org(session, org_id, fields.appointment_type_id)
        if wants_booking
        else None
    )
    if booking_type is not None and actor is None and not booking_type.clients_can_book:
        raise Invalid.field("appointment_type_id", "This appointment type cannot be self-booked")
    newcomer = await _newcomer(session, passwords, provider, fields) if actor is None else None
    patient = newcomer.user if newcomer is not None else await _own(session, actor)
    slot = await _slot(session, fields, patient, provider, booking_type)
    # The card is checked before the email is looked at: a declined card must answer the same
    # whoever has the email (issue 22). Nothing can fail between the look-up and the capture.
    hold = await _authorize(processor, fields, _amount(booking_type, offering))
    try:
        if newcomer is not None:
            owner = await enrollment.patient_with_email(session, org_id, newcomer.email_key)
            if owner is not None:
                await _release(hold)
                return await enrollment.tell_owner(session, org_id, owner)
            await _add(session, newcomer)
        appointment = await _insert(session, provider, patient, booking_type, slot)
        item = await _pay(session, hold, patient, provider, appointment, booking_type, offering)
    except BaseException:
        await _release(hold)
        raise
    kind = (
        NotificationKind.APPOINTMENT_BOOKED if appointment else NotificationKind.OFFERING_PURCHASED
    )
    await notify_providers(
        session,
        patient=patient,
        kind=kind,
        appointment_id=appointment.id if appointment else None,
        provider_ids=[provider.id, *([patient.dietitian_id] if patient.dietitian_id else [])],
    )
    if appointment is not None:
        await appointment_emails.tell_patient(session, appointment, EmailKind.APPOINTMENT_BOOKED)
    await record_patients(session, [patient], action="update")
    return CheckoutResult(patient=patient, appointment=appointment, billing_item=item)


@dataclass(frozen=True)
class _Slot:
    """A checked booking time, before the patient it is for exists."""

    start: datetime
    timezone: str
    contact_type: str | None
    reason: str | None


async def _open_provider(session: AsyncSession, raw: str | int | None) -> User:
    """An anonymous checkout's provider, whose practice must be open to sign-up.

    Anonymous checkout can create a patient, so an invite-only practice refuses it, for every
    email (refusing only new ones would tell which are patients), and exactly as an id that
    names no provider: the same message, from the same one statement (issue 22, item 11).
    """
    provider_id = v.parse_id(raw, "provider_id")
    if provider_id is None:
        raise Invalid.field("provider_id", "Provider can't be blank")
    query = (
        select(User)
        .join(Organization, Organization.id == User.organization_id)
        .where(
            User.id == provider_id,
            User.role.in_(user_queries.STAFF_ROLES),
            User.active,
            Organization.open_sign_up,
        )
    )
    provider = (await session.execute(query)).scalar_one_or_none()
    if provider is None:
        raise NotFound.field("provider_id", "Provider not found")
    return provider


async def _slot(
    session: AsyncSession,
    fields: CheckoutRequest,
    patient: User,
    provider: User,
    booking_type: AppointmentType | None,
) -> _Slot | None:
    """The requested time, checked as scheduling.book checks it (future, provider free), once
    and before the email is looked at, so that a busy slot or a past time answers the same for
    every email. The provider is locked, so the slot stays free until the insert."""
    if booking_type is None:
        return None
    zone = scheduling.booking_zone(fields.timezone, patient.timezone, provider.timezone)
    start = parse_start(fields.date, zone, "date")
    slot = _Slot(
        start=start,
        timezone=zone or "UTC",
        contact_type=v.clean_text("contact_type", fields.contact_type, limit=lengths.CONTACT_TYPE),
        reason=v.clean_text("reason", fields.reason, limit=lengths.APPOINTMENT_REASON),
    )
    if start <= utcnow():
        raise Invalid.field("date", "The appointment must start in the future")
    end = start + timedelta(minutes=booking_type.length)
    if await scheduling_queries.provider_busy(session, provider.id, start, end):
        raise Invalid.field("date", scheduling.SLOT_TAKEN)
    return slot


async def _insert(
    session: AsyncSession,
    provider: User,
    patient: User,
    booking_type: AppointmentType | None,
    slot: _Slot | None,
) -> Appointment | None:
    """Book the slot _slot checked. Not scheduling.book: it would check the time again, after
    the email was looked at, and a start that passed in between would then answer differently
    for a new email than for a patient's (issue 22). The unique index on the provider's
    not-cancelled starts still backs the lock up."""
    if booking_type is None or slot is None:
        return None
    row = Appointment(
        organization_id=provider.organization_id,
        provider_id=provider.id,
        patient_id=patient.id,
        appointment_type_id=booking_type.id,
        start=slot.start,
        end=slot.start + timedelta(minutes=booking_type.length),
        timezone=slot.timezone,
        contact_type=slot.contact_type,
        reason=slot.reason,
    )
    session.add(row)
    await session.flush()
    emit_appointment_created(session, row)
    return row


async def _offering(session: AsyncSession, org_id: int, raw: str | int | None) -> Offering:
    return await found(
        raw,
        lambda offering_id: scheduling_queries.get_offering(session, org_id, offering_id),
        field="offering_id",
        missing="Offering not found",
        blank=None,
    )


@dataclass(frozen=True)
class _Newcomer:
    """An anonymous caller's patient, validated but not yet added (nor given its email)."""

    user: User
    email: str
    email_key: str


async def _own(session: AsyncSession, actor: Actor | None) -> User:
    """A signed-in patient's own row."""
    assert actor is not None
    own = await user_queries.get_visible_user(session, actor, actor.user_id)
    if own is None:
        raise NotFound.field(None, "User not found")
    return own


async def _newcomer(
    session: AsyncSession, passwords: Passwords, provider: User, fields: CheckoutRequest
) -> _Newcomer:
    """Validate the new patient's fields; whether the email is in use is checked later."""
    user = User(organization_id=provider.organization_id, role=Role.PATIENT.value, active=True)
    user.skipped_email = False
    profile = Profile(
        first_name=fields.first_name,
        last_name=fields.last_name,
        email=fields.email,
        dietitian_id=str(provider.id),
        # Blank optional fields are left out, as if not given.
        phone_number=fields.phone_number or None,
        timezone=fields.timezone or None,
        legal_name=fields.legal_name or None,
    )
    ctx = ChangeContext(session, provider.organization_id, passwords)
    required = ("first_name", "last_name")  # blank is a message
    email = await enrollment.validated_except_email_use(ctx, user, profile, required)
    key = v.email_key(email)
    assert key is not None
    return _Newcomer(user=user, email=email, email_key=key)


async def _add(session: AsyncSession, newcomer: _Newcomer) -> None:
    """Create the new patient, with the welcome email that lets them set a password."""
    user = newcomer.user
    user.email, user.email_key = newcomer.email, newcomer.email_key
    session.add(user)
    await session.flush()
    await emit_patient_created(session, user)
    await queue_email(
        session,
        organization_id=user.organization_id,
        recipient_user_id=user.id,
        kind=EmailKind.WELCOME,
    )


def _amount(booking_type: AppointmentType | None, offering: Offering | None) -> int:
    """The price in cents: always the stored one (the input's price is ignored)."""
    return (booking_type.price_cents if booking_type is not None else 0) + (
        offering.price_cents if offering is not None else 0
    )


def _require_card(fields: CheckoutRequest, amount: int) -> str:
    """The card token, required when there is something to pay."""
    token = (fields.token or "").strip()
    if amount > 0 and not token:
        raise Invalid.field("token", "A card is needed to pay for this checkout")
    return token


@dataclass(frozen=True)
class _Hold:
    """An amount held on the card, and the processor holding it."""

    processor: payments.PaymentProvider
    authorization: payments.Authorization


async def _authorize(
    processor: payments.PaymentProvider | None, fields: CheckoutRequest, amount: int
) -> _Hold | None:
    """Hold the price on the card (None: nothing to pay); a declined card is a token message."""
    if amount > 0 and processor is None:
        raise Invalid.field(None, payments.NOT_CONFIGURED)
    token = _require_card(fields, amount)
    if amount == 0 or processor is None:
        return None
    key = fields.stripe_idempotency_key or uuid.uuid4().hex
    try:
        held = await processor.authorize(
            amount_cents=amount, currency="usd", token=token, idempotency_key=key
        )
    except payments.PaymentDeclined as declined:
        raise Invalid.field("token", str(declined)) from None
    return _Hold(processor, held)


async def _release(hold: _Hold | None) -> None:
    if hold is not None:
        await hold.processor.release(hold.authorization)


async def _pay(
    session: AsyncSession,
    hold: _Hold | None,
    patient: User,
    provider: User,
    appointment: Appointment | None,
    booking_type: AppointmentType | None,
    offering: Offering | None,
) -> BillingItem | None:
    """Record what was bought at its price, capturing the card's hold when there is one."""
    amount = _amount(booking_type, offering)
    if amount == 0 and offering is None:
        return None
    item = BillingItem(
        organization_id=provider.organization_id,
        sender_id=patient.id,
        recipient_id=provider.id,
        offering_id=offering.id if offering else None,
        appointment_id=appointment.id if appointment else None,
        amount_cents=amount,
        currency="usd",
        state="succeeded",
    )
    if hold is not None:
        try:
            charge = await hold.processor.capture(hold.authorization)
        except payments.PaymentDeclined as declined:
            raise Invalid.field("token", str(declined)) from None
        item.payment_provider, item.payment_reference = charge.provider, charge.reference
    session.add(item)
    await session.flush()
    return item
