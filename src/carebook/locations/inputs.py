"""Typed inputs of the location services (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give; the address fields are raw text, checked by
:func:`carebook.locations.validation.clean_location`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationFields:
    """The address fields a location is created or changed with; ``None`` keeps the value."""

    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    npi: str | None = None
    other_id: str | None = None
    other_id_qual: str | None = None
    place_of_service_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewLocation(LocationFields):
    """A location of ``user_id`` (default: the caller)."""

    user_id: str | int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationChanges(LocationFields):
    """Changes to the location ``id``."""

    id: str | int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientLocation(LocationFields):
    """One entry of Healthie's ``locations`` list of updateClient / updateUser: without ``id`` a
    new location of the user, with ``id`` changes to that location of theirs, with ``destroy``
    (Healthie's ``_destroy``) its deletion."""

    id: str | int | None = None
    destroy: bool | None = None
