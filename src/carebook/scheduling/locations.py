"""Appointment locations: the organization's places of appointments, written as Healthie writes
them, through ``updateAppointmentSetting``'s ``appointment_locations``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor, require_staff
from carebook.db import lengths
from carebook.db.base import utcnow
from carebook.errors import Invalid
from carebook.scheduling import queries
from carebook.scheduling.inputs import AppointmentLocationEntry
from carebook.scheduling.models import AppointmentLocation
from carebook.users import validation as v
from carebook.users.lookup import found

FIELD = "appointment_locations"
MAX_ENTRIES = 100


async def chosen_location(
    session: AsyncSession, actor: Actor, raw: Any
) -> AppointmentLocation | None:
    """The location ``appointment_location_id`` names (None when blank): one the actor sees."""
    if raw is None or not str(raw).strip():
        return None
    return await found(
        raw,
        lambda location_id: queries.get_visible_location(session, actor, location_id),
        field="appointment_location_id",
        missing="Appointment location not found",
        blank=None,
    )


async def write_locations(
    session: AsyncSession, *, actor: Actor, entries: Sequence[AppointmentLocationEntry]
) -> list[AppointmentLocation]:
    """Add, change and remove the organization's locations; all or nothing. The locations
    after the change, oldest first."""
    require_staff(actor)
    if len(entries) > MAX_ENTRIES:
        raise Invalid.field(FIELD, f"At most {MAX_ENTRIES} locations at once")
    for entry in entries:
        await _write(session, actor, entry)
    await session.flush()
    return await queries.list_locations(session, actor, ids=(), keywords=None)


async def _write(session: AsyncSession, actor: Actor, entry: AppointmentLocationEntry) -> None:
    if entry.id is None or not str(entry.id).strip():
        if entry.destroy:
            return  # a new entry removed at once: nothing to do
        row = AppointmentLocation(organization_id=actor.organization_id, clients_can_book=True)
        session.add(row)
    else:
        row = await found(
            entry.id,
            lambda location_id: queries.get_visible_location(session, actor, location_id),
            field=FIELD,
            missing="Appointment location not found",
            blank=None,
        )
        if entry.destroy:
            row.deleted_at = utcnow()
            return
    if entry.location is not None or row.id is None:
        text = v.clean_text("location", entry.location, limit=lengths.APPOINTMENT_LOCATION)
        if text is None:
            raise Invalid.field("location", "Location can't be blank")
        row.location = text
    if entry.clients_can_book is not None:
        row.clients_can_book = entry.clients_can_book
