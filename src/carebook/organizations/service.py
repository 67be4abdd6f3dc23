"""Creating organizations and changing their settings.

An organization's first provider is created by the accounts flow (carebook.accounts.staff).
"""

from __future__ import annotations

from difflib import get_close_matches

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.db import lengths
from carebook.errors import Invalid
from carebook.organizations.models import Organization
from carebook.times import is_zone


async def get_or_create_organization(
    session: AsyncSession,
    name: str | None,
    organization_id: int | None = None,
    *,
    create: bool = False,
) -> Organization:
    """The organization with that id or name, or a new one (named later when unnamed).

    A name joins the one organization of that name unless ``create`` asks for a new one: a
    misspelt name is an error listing the close matches, never a new practice by accident.
    """
    if organization_id is not None:
        found = await session.get(Organization, organization_id)
        if found is None:
            raise Invalid.field("organization_id", "Organization not found")
        return found
    if name and len(name) > lengths.LABEL:  # the command line's --organization
        raise Invalid.field(
            "organization", f"Organization is too long (at most {lengths.LABEL} characters)"
        )
    if name and not create:
        return await _named(session, name)
    if name and await _ids_named(session, name):
        raise Invalid.field("organization", f"An organization named '{name}' already exists")
    organization = Organization(name=name or "New practice")
    session.add(organization)
    await session.flush()
    return organization


async def _ids_named(session: AsyncSession, name: str) -> list[int]:
    query = select(Organization.id).where(Organization.name == name).order_by(Organization.id)
    return list((await session.execute(query)).scalars())


async def _named(session: AsyncSession, name: str) -> Organization:
    """The one organization called ``name``; Invalid naming close matches or the ids."""
    ids = await _ids_named(session, name)
    if len(ids) == 1:
        return await session.get_one(Organization, ids[0])
    if ids:
        listed = ", ".join(str(i) for i in ids)
        raise Invalid.field(
            "organization", f"Several organizations are named '{name}' (ids {listed})"
        )
    names = list((await session.execute(select(Organization.name).distinct())).scalars())
    by_lower = {known.lower(): known for known in names}
    close = get_close_matches(name.lower(), list(by_lower), n=5, cutoff=0.6)
    hint = ": did you mean " + ", ".join(f"'{by_lower[c]}'" for c in close) if close else ""
    raise Invalid.field("organization", f"No organization is named '{name}'{hint}")


async def set_open_sign_up(
    session: AsyncSession, organization_id: int, open_sign_up: bool | None
) -> bool:
    """Turn open patient sign-up on or off (None: leave it); whether it is now on.

    Off, ``signUp`` with only a ``dietitian_id`` answers exactly as for an unknown provider, and
    patients join with an invite code or are added by staff (docs/decisions.md, "Open sign-up").
    """
    organization = await session.get(Organization, organization_id)
    if organization is None:
        raise Invalid.field("organization_id", "Organization not found")
    if open_sign_up is not None:
        organization.open_sign_up = open_sign_up
        await session.flush()
    return organization.open_sign_up


async def set_timezone(
    session: AsyncSession, organization_id: int, timezone: str | None
) -> str | None:
    """Set the organization's time zone (None: leave it, "": clear it); the zone it now has.

    Its people without a zone of their own read date-times in it (carebook/times.py). Healthie
    offers no API field for it, so the command line sets it.
    """
    organization = await session.get(Organization, organization_id)
    if organization is None:
        raise Invalid.field("organization_id", "Organization not found")
    if timezone is not None:
        name = timezone.strip()
        if name and not is_zone(name):
            raise Invalid.field(
                "timezone", f"'{name[:64]}' is not a known time zone (e.g. America/New_York)"
            )
        organization.timezone = name or None
        await session.flush()
    return organization.timezone
