"""Creating organizations and changing their settings.

An organization's first provider is created by the accounts flow (carebook.accounts.staff).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.db import lengths
from carebook.errors import Invalid
from carebook.organizations.models import Organization
from carebook.times import is_zone


async def get_or_create_organization(
    session: AsyncSession, name: str | None, organization_id: int | None = None
) -> Organization:
    """The organization with that id or name, or a new one (named later when unnamed)."""
    if organization_id is not None:
        return await session.get_one(Organization, organization_id)
    if name:
        found = (
            await session.execute(select(Organization).where(Organization.name == name).limit(1))
        ).scalar_one_or_none()
        if found is not None:
            return found
    if name and len(name) > lengths.LABEL:  # the command line's --organization
        raise Invalid.field(
            "organization", f"Organization is too long (at most {lengths.LABEL} characters)"
        )
    organization = Organization(name=name or "New practice")
    session.add(organization)
    await session.flush()
    return organization


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
