"""Reads of appointment types, offerings and appointments, and DataLoader batch functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.db.base import utcnow
from carebook.scheduling.models import (
    Appointment,
    AppointmentLocation,
    AppointmentType,
    BillingItem,
    Offering,
)
from carebook.users.models import User


@dataclass(frozen=True)
class Page:
    """Offset pagination; ``limit`` None means everything."""

    offset: int = 0
    limit: int | None = None


def _paged(query: Select, page: Page) -> Select:  # type: ignore[type-arg]
    query = query.offset(page.offset)
    return query.limit(page.limit) if page.limit is not None else query


async def get_type(
    session: AsyncSession, organization_id: int, type_id: int, *, lock: bool = False
) -> AppointmentType | None:
    """A (not deleted) appointment type of the organization, or None."""
    query = select(AppointmentType).where(
        AppointmentType.id == type_id,
        AppointmentType.organization_id == organization_id,
        AppointmentType.deleted_at.is_(None),
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_visible_type(
    session: AsyncSession, actor: Actor, type_id: int
) -> AppointmentType | None:
    """``appointmentType(id)``: one of the listed types (list_appointment_types' rule)."""
    row = await get_type(session, actor.organization_id, type_id)
    if row is not None and actor.is_patient and not row.clients_can_book:
        return None
    return row


def visible_locations(actor: Actor) -> Select[AppointmentLocation]:
    """The organization's appointment locations (not removed); patients see bookable ones."""
    query = select(AppointmentLocation).where(
        AppointmentLocation.organization_id == actor.organization_id,
        AppointmentLocation.deleted_at.is_(None),
    )
    if actor.is_patient:
        query = query.where(AppointmentLocation.clients_can_book.is_(True))
    return query


async def get_visible_location(
    session: AsyncSession, actor: Actor, location_id: int
) -> AppointmentLocation | None:
    """``appointmentLocation(id)``: one of the listed locations, or None."""
    query = visible_locations(actor).where(AppointmentLocation.id == location_id)
    return (await session.execute(query)).scalar_one_or_none()


async def list_locations(
    session: AsyncSession, actor: Actor, *, ids: Sequence[int], keywords: str | None
) -> list[AppointmentLocation]:
    """``appointmentLocations``: the visible locations, oldest first."""
    query = visible_locations(actor)
    if ids:
        query = query.where(AppointmentLocation.id.in_(ids))
    if keywords:
        text = keywords.strip().lower()
        query = query.where(
            func.lower(AppointmentLocation.location).contains(text, autoescape=True)
        )
    return list((await session.execute(query.order_by(AppointmentLocation.id))).scalars())


async def get_offering(
    session: AsyncSession, organization_id: int, offering_id: int
) -> Offering | None:
    """An offering of the organization, or None."""
    query = select(Offering).where(
        Offering.id == offering_id, Offering.organization_id == organization_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def provider_busy(
    session: AsyncSession,
    provider_id: int,
    start: datetime,
    end: datetime,
    *,
    besides: int | None = None,
) -> bool:
    """True when the provider has a not-cancelled appointment overlapping [start, end), other
    than ``besides`` (the one being rescheduled)."""
    query = select(Appointment.id).where(
        Appointment.provider_id == provider_id,
        Appointment.cancelled_at.is_(None),
        Appointment.start < end,
        Appointment.end > start,
    )
    if besides is not None:
        query = query.where(Appointment.id != besides)
    return (await session.execute(query.limit(1))).first() is not None


def visible_appointments(actor: Actor, *, include_deleted: bool = False) -> Select[Appointment]:
    """Appointments ``actor`` may read: the organization's, or a patient's own; deleted ones
    only when asked for."""
    query = select(Appointment).where(Appointment.organization_id == actor.organization_id)
    if actor.is_patient:
        query = query.where(Appointment.patient_id == actor.user_id)
    if not include_deleted:
        query = query.where(Appointment.deleted_at.is_(None))
    return query


async def get_visible_appointment(
    session: AsyncSession,
    actor: Actor,
    appointment_id: int,
    *,
    for_update: bool = False,
    include_deleted: bool = False,
) -> Appointment | None:
    """One appointment the actor may read, or None."""
    query = visible_appointments(actor, include_deleted=include_deleted)
    query = query.where(Appointment.id == appointment_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_appointment_types(
    session: AsyncSession, actor: Actor, *, clients_can_book: bool | None, page: Page
) -> list[AppointmentType]:
    """The organization's appointment types, oldest first; patients see bookable ones."""
    query = select(AppointmentType).where(
        AppointmentType.organization_id == actor.organization_id,
        AppointmentType.deleted_at.is_(None),
    )
    if actor.is_patient:
        clients_can_book = True
    if clients_can_book is not None:
        query = query.where(AppointmentType.clients_can_book.is_(clients_can_book))
    query = query.order_by(AppointmentType.id)
    return list((await session.execute(_paged(query, page))).scalars())


async def list_offerings(session: AsyncSession, actor: Actor, *, page: Page) -> list[Offering]:
    """The organization's offerings, oldest first."""
    query = (
        select(Offering)
        .where(Offering.organization_id == actor.organization_id)
        .order_by(Offering.id)
    )
    return list((await session.execute(_paged(query, page))).scalars())


@dataclass(frozen=True, kw_only=True)
class AppointmentFilter:
    """Healthie's appointment filters, read by ``appointments`` and ``appointmentsCount``.

    ``when``: future (or upcoming), past (or ended), didnt-occur, all. Cancelled (and deleted)
    appointments are left out unless ``when`` is all, ``is_active`` is false, or a status filter
    names Cancelled. Empty id lists filter nothing (null and [] alike).
    """

    when: str = "future"
    user_id: int | None = None
    provider_ids: Sequence[int] = ()
    type_ids: Sequence[int] = ()
    statuses: Sequence[str] = ()
    is_active: bool | None = None
    is_upcoming: bool | None = None
    keywords: str | None = None


WHEN = ("future", "upcoming", "past", "ended", "didnt-occur", "all")
DIDNT_OCCUR = ("Cancelled", "No-Show", "Late Cancellation")
ORDERS = {
    "date_asc": (Appointment.start.asc(), Appointment.id.asc()),
    "date_desc": (Appointment.start.desc(), Appointment.id.desc()),
    "created_at_asc": (Appointment.created_at.asc(), Appointment.id.asc()),
    "created_at_desc": (Appointment.created_at.desc(), Appointment.id.desc()),
    "updated_at_asc": (Appointment.updated_at.asc(), Appointment.id.asc()),
    "updated_at_desc": (Appointment.updated_at.desc(), Appointment.id.desc()),
    "unsorted": (Appointment.id.asc(),),  # still stable: pages must not overlap
}


def _filtered(actor: Actor, wanted: AppointmentFilter) -> Select[Appointment]:
    query = visible_appointments(actor)
    if wanted.user_id is not None:
        query = query.where(Appointment.patient_id == wanted.user_id)
    if wanted.provider_ids:
        query = query.where(Appointment.provider_id.in_(wanted.provider_ids))
    if wanted.type_ids:
        query = query.where(Appointment.appointment_type_id.in_(wanted.type_ids))
    if wanted.statuses:
        folded = [status.lower() for status in wanted.statuses]
        query = query.where(func.lower(Appointment.pm_status).in_(folded))
    query = _in_time(query, wanted)
    if wanted.keywords:
        query = _matching(query, wanted.keywords)
    return query


def _in_time(query: Select[Appointment], wanted: AppointmentFilter) -> Select[Appointment]:
    now = utcnow()
    if wanted.when in ("future", "upcoming"):
        query = query.where(Appointment.start > now)
    elif wanted.when in ("past", "ended", "didnt-occur"):
        query = query.where(Appointment.start <= now)
    if wanted.when == "didnt-occur":
        query = query.where(Appointment.pm_status.in_(DIDNT_OCCUR))
    if wanted.is_upcoming is not None:
        upcoming = Appointment.start > now
        query = query.where(upcoming if wanted.is_upcoming else ~upcoming)
    cancelled_wanted = (
        wanted.when in ("all", "didnt-occur")
        or wanted.is_active is False
        or any(status.lower() == "cancelled" for status in wanted.statuses)
    )
    if wanted.is_active is not None:
        cancelled = Appointment.cancelled_at.is_not(None)
        query = query.where(~cancelled if wanted.is_active else cancelled)
    elif not cancelled_wanted:
        query = query.where(Appointment.cancelled_at.is_(None))
    return query


def _matching(query: Select[Appointment], keywords: str) -> Select[Appointment]:
    """Appointments whose patient's name, contact type or notes contain ``keywords``."""
    text = keywords.strip().lower()
    first, last = func.coalesce(User.first_name, ""), func.coalesce(User.last_name, "")
    name = func.lower(first + " " + last)
    return query.join(User, User.id == Appointment.patient_id).where(
        or_(
            name.contains(text, autoescape=True),
            func.lower(Appointment.contact_type).contains(text, autoescape=True),
            func.lower(Appointment.reason).contains(text, autoescape=True),
        )
    )


async def list_appointments(
    session: AsyncSession, actor: Actor, wanted: AppointmentFilter, *, order: str, page: Page
) -> list[Appointment]:
    """The visible appointments ``wanted`` names, in ``order`` (a key of ORDERS)."""
    query = _filtered(actor, wanted).order_by(*ORDERS[order])
    return list((await session.execute(_paged(query, page))).scalars())


async def count_appointments(session: AsyncSession, actor: Actor, wanted: AppointmentFilter) -> int:
    """How many visible appointments ``wanted`` names."""
    query = select(func.count()).select_from(_filtered(actor, wanted).subquery())
    return int((await session.execute(query)).scalar_one())


def next_appt_start(patient_id: Any, now: datetime) -> ColumnElement[datetime]:
    """A correlated scalar: the start of the patient's next upcoming, not cancelled appointment."""
    return (
        select(func.min(Appointment.start))
        .where(
            Appointment.patient_id == patient_id,
            Appointment.cancelled_at.is_(None),
            Appointment.start > now,
        )
        .scalar_subquery()
    )


# --- batch functions behind DataLoaders -------------------------------------------------------


async def load_next_appt_dates(
    session: AsyncSession, patient_ids: Sequence[int]
) -> list[datetime | None]:
    """Each patient's next upcoming, not cancelled appointment start, in one query."""
    rows = await session.execute(
        select(Appointment.patient_id, func.min(Appointment.start))
        .where(
            Appointment.patient_id.in_(patient_ids),
            Appointment.cancelled_at.is_(None),
            Appointment.start > utcnow(),
        )
        .group_by(Appointment.patient_id)
    )
    # MIN() keeps the column's type, so values come back aware (UTCDateTime) on both databases.
    by_patient: dict[int, datetime] = {pid: start for pid, start in rows}
    return [by_patient.get(pid) for pid in patient_ids]


async def load_upcoming_appointments(
    session: AsyncSession, user_ids: Sequence[int], *, per_key: int, as_provider: bool = False
) -> list[list[Appointment]]:
    """Each user's first ``per_key`` upcoming, not cancelled appointments, soonest first: as
    the patient, or (``as_provider``) as the provider they are with.

    The limit is applied in SQL (ROW_NUMBER per user), as for a user's tags.
    """
    owner = Appointment.provider_id if as_provider else Appointment.patient_id
    order = (Appointment.start, Appointment.id)
    rank = func.row_number().over(partition_by=owner, order_by=order)
    window = (
        select(Appointment.id, rank.label("rank"))
        .where(
            owner.in_(user_ids), Appointment.cancelled_at.is_(None), Appointment.start > utcnow()
        )
        .subquery()
    )
    rows = await session.execute(
        select(Appointment)
        .join(window, window.c.id == Appointment.id)
        .where(window.c.rank <= per_key)
        .order_by(*order)
    )
    by_user: dict[int, list[Appointment]] = {}
    for appointment in rows.scalars():
        key = appointment.provider_id if as_provider else appointment.patient_id
        by_user.setdefault(key, []).append(appointment)
    return [by_user.get(user_id, []) for user_id in user_ids]


async def load_types(session: AsyncSession, ids: Sequence[int]) -> list[AppointmentType | None]:
    """Appointment types by id in key order."""
    rows = await session.execute(select(AppointmentType).where(AppointmentType.id.in_(ids)))
    by_id = {row.id: row for row in rows.scalars()}
    return [by_id.get(i) for i in ids]


async def load_offerings(session: AsyncSession, ids: Sequence[int]) -> list[Offering | None]:
    """Offerings by id in key order."""
    rows = await session.execute(select(Offering).where(Offering.id.in_(ids)))
    by_id = {row.id: row for row in rows.scalars()}
    return [by_id.get(i) for i in ids]


async def load_appointments(session: AsyncSession, ids: Sequence[int]) -> list[Appointment | None]:
    """Appointments by id in key order."""
    rows = await session.execute(select(Appointment).where(Appointment.id.in_(ids)))
    by_id = {row.id: row for row in rows.scalars()}
    return [by_id.get(i) for i in ids]


async def get_billing_item(session: AsyncSession, item_id: int) -> BillingItem | None:
    """A billing item by id."""
    return await session.get(BillingItem, item_id)
