"""The ``locations`` (and ``location``) of updateClient and updateUser: a patient's addresses
written with the rest of their record, in the same transaction (a wrong entry writes nothing).

A flow over the locations domain: each entry goes through the location service, so its rules,
visibility and audit are the ones createLocation, updateLocation and deleteLocation apply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.errors import FieldMessage, Invalid, NotFound
from carebook.locations import queries as location_queries
from carebook.locations import service as location_service
from carebook.locations.inputs import ClientLocation, LocationChanges, LocationFields, NewLocation
from carebook.users import validation as v
from carebook.users.models import User

LOCATION_NOT_FOUND = "Location not found"
_ADDRESS = tuple(field.name for field in dataclasses.fields(LocationFields))


async def apply_locations(
    session: AsyncSession, actor: Actor, owner: User, entries: Sequence[ClientLocation] | None
) -> None:
    """Create, change or delete ``owner``'s locations as ``entries`` say; every problem of
    every entry is raised together."""
    problems: list[FieldMessage] = []
    for entry in entries or ():
        try:
            await _apply(session, actor, owner, entry)
        except Invalid as error:
            problems.extend(error.messages)
    if problems:
        raise Invalid(*problems)


async def _apply(session: AsyncSession, actor: Actor, owner: User, entry: ClientLocation) -> None:
    address = {name: getattr(entry, name) for name in _ADDRESS}
    location_id = v.parse_id(entry.id, "locations")
    if location_id is None:
        if not entry.destroy:  # deleting a location that was never saved: nothing to do
            await location_service.create_location(
                session, actor=actor, fields=NewLocation(user_id=owner.id, **address)
            )
        return
    # Only a location of the user being updated (another's answers as if it did not exist).
    location = await location_queries.get_visible_location(session, actor, location_id)
    if location is None or location.user_id != owner.id:
        raise NotFound.field("locations", LOCATION_NOT_FOUND)
    if entry.destroy:
        await location_service.delete_location(session, actor=actor, location_id=location_id)
    else:
        await location_service.update_location(
            session, actor=actor, fields=LocationChanges(id=location_id, **address)
        )
