"""Reads of appointment types, offerings and appointments, and DataLoader batch functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.db.base import utcnow
from carebook.scheduling.models import Appointment, AppointmentType, BillingItem, Offering


@dataclass(frozen=True)
class Page:
    """Offset pagination; ``limit`` None means everything."""

    offset: int = 0
    limit: int | None = None


def _paged(query: Select, page: Page) -> Select:  # type: ignore[type-arg]
    query = query.offset(page.offset)
    return query.limit(page.limit) if page.limit is not None else query


async def get_type(
    session: AsyncSession, organization_id: int, type_id: int
) -> AppointmentType | None:
    """An appointment type of the organization, or None."""
    query = select(AppointmentType).where(
        AppointmentType.id == type_id, AppointmentType.organization_id == organization_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def get_offering(
    session: AsyncSession, organization_id: int, offering_id: int
) -> Offering | None:
    """An offering of the organization, or None."""
    query = select(Offering).where(
        Offering.id == offering_id, Offering.organization_id == organization_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def provider_busy(
    session: AsyncSession, provider_id: int, start: datetime, end: datetime
) -> bool:
    """True when the provider has a not-cancelled appointment overlapping [start, end)."""
    query = select(Appointment.id).where(
        Appointment.provider_id == provider_id,
        Appointment.cancelled_at.is_(None),
        Appointment.start < end,
        Appointment.end > start,
    )
    return (await session.execute(query.limit(1))).first() is not None


def visible_appointments(actor: Actor) -> Select[Appointment]:
    """Appointments ``actor`` may read: the organization's, or a patient's own."""
    query = select(Appointment).where(Appointment.organization_id == actor.organization_id)
    if actor.is_patient:
        query = query.where(Appointment.patient_id == actor.user_id)
    return query


async def get_visible_appointment(
    session: AsyncSession, actor: Actor, appointment_id: int, *, for_update: bool = False
) -> Appointment | None:
    """One appointment the actor may read, or None."""
    query = visible_appointments(actor).where(Appointment.id == appointment_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_appointment_types(
    session: AsyncSession, actor: Actor, *, clients_can_book: bool | None, page: Page
) -> list[AppointmentType]:
    """The organization's appointment types, oldest first; patients see bookable ones."""
    query = select(AppointmentType).where(AppointmentType.organization_id == actor.organization_id)
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


async def list_appointments(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: int | None,
    provider_id: int | None,
    filter: str,
    descending: bool,
    page: Page,
) -> list[Appointment]:
    """Visible appointments; ``filter`` is upcoming, past or all (cancelled ones only in all)."""
    query = visible_appointments(actor)
    if user_id is not None:
        query = query.where(Appointment.patient_id == user_id)
    if provider_id is not None:
        query = query.where(Appointment.provider_id == provider_id)
    now = utcnow()
    if filter == "upcoming":
        query = query.where(Appointment.start > now, Appointment.cancelled_at.is_(None))
    elif filter == "past":
        query = query.where(Appointment.start <= now, Appointment.cancelled_at.is_(None))
    start = Appointment.start.desc() if descending else Appointment.start.asc()
    ident = Appointment.id.desc() if descending else Appointment.id.asc()
    query = query.order_by(start, ident)
    return list((await session.execute(_paged(query, page))).scalars())


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
