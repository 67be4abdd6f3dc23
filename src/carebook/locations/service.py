"""Writes of locations: a patient manages their own, providers/staff those of their patients.

Services take a session and an actor, flush but never commit (the request owns the
transaction), and raise :class:`carebook.errors.Invalid` for anything the caller got wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.errors import FieldMessage, Invalid, NotFound
from carebook.events.changes import changed_attributes
from carebook.events.emit import emit
from carebook.locations import queries
from carebook.locations.inputs import LocationChanges, NewLocation
from carebook.locations.models import Location
from carebook.locations.validation import FIELDS, clean_location
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.lookup import found
from carebook.users.models import User
from carebook.users.trail import record_patients

LOCATION_NOT_FOUND = "Location not found"
USER_NOT_FOUND = "User not found"
LOCATION_CREATED = "location.created"
LOCATION_UPDATED = "location.updated"
LOCATION_DELETED = "location.deleted"
# The address columns are the Location fields of the API, name for name.
WIRE_NAMES = {field: field for field in FIELDS}


def _may_manage(actor: Actor, owner: User) -> bool:
    """Oneself, or (for providers/staff) a patient of the organization."""
    return owner.id == actor.user_id or (actor.is_staff and owner.is_patient)


async def _owner(session: AsyncSession, actor: Actor, raw_id: str | int | None) -> User:
    """The user whose locations are changed: ``user_id``, or the caller when blank."""
    user_id = v.parse_id(raw_id, "user_id")
    if user_id is None:
        user_id = actor.user_id
    owner = await user_queries.get_visible_user(session, actor, user_id)
    if owner is None or not _may_manage(actor, owner):
        raise NotFound.field("user_id", USER_NOT_FOUND)
    return owner


async def _location(
    session: AsyncSession, actor: Actor, raw_id: str | int | None
) -> tuple[Location, User]:
    """The location and its owner (a patient's address is part of their record)."""
    location = await found(
        raw_id,
        lambda location_id: queries.get_visible_location(session, actor, location_id),
        field="id",
        missing=LOCATION_NOT_FOUND,
    )
    owner = await user_queries.get_visible_user(session, actor, location.user_id)
    if owner is None or not _may_manage(actor, owner):
        raise NotFound.field("id", LOCATION_NOT_FOUND)
    return location, owner


def _emit(
    session: AsyncSession, location: Location, event_type: str, changed: Sequence[str] = ()
) -> None:
    """A ``location.*`` event in the organization of the location (its owner's)."""
    emit(
        session,
        organization_id=location.organization_id,
        event_type=event_type,
        resource_id=location.id,
        changed_fields=changed,
    )


def _set(location: Location, values: Mapping[str, str | None]) -> None:
    for field in FIELDS:
        setattr(location, field, values[field])


async def create_location(session: AsyncSession, *, actor: Actor, fields: NewLocation) -> Location:
    """A new location of ``user_id`` (default: the caller); the country defaults to the US."""
    problems: list[FieldMessage] = []
    owner: User | None = None
    values: dict[str, str | None] | None = None
    try:
        owner = await _owner(session, actor, fields.user_id)
    except Invalid as error:
        problems.extend(error.messages)
    try:
        values = clean_location({}, fields)
    except Invalid as error:
        problems.extend(error.messages)
    if problems:
        raise Invalid(*problems)
    assert owner is not None and values is not None
    location = Location(organization_id=owner.organization_id, user_id=owner.id)
    _set(location, values)
    session.add(location)
    await session.flush()
    _emit(session, location, LOCATION_CREATED)
    await record_patients(session, [owner], action="update")
    return location


async def update_location(
    session: AsyncSession, *, actor: Actor, fields: LocationChanges
) -> Location:
    """Change the given fields of a location; state and ZIP are checked against its country."""
    location, owner = await _location(session, actor, fields.id)
    current = {field: getattr(location, field) for field in FIELDS}
    _set(location, clean_location(current, fields))
    changed = changed_attributes(location, WIRE_NAMES)
    if changed:  # an update that leaves the address as it was tells receivers nothing
        _emit(session, location, LOCATION_UPDATED, changed)
    await session.flush()
    await record_patients(session, [owner], action="update")
    return location


async def delete_location(
    session: AsyncSession, *, actor: Actor, location_id: str | int | None
) -> Location:
    """Delete a location."""
    location, owner = await _location(session, actor, location_id)
    _emit(session, location, LOCATION_DELETED)
    await session.delete(location)
    await session.flush()
    await record_patients(session, [owner], action="update")
    return location
