"""Creating organizations and their providers (command line, demo, tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.auth.tokens import new_invite_code
from carebook.db import lengths
from carebook.errors import Invalid
from carebook.organizations.models import Organization
from carebook.users.changes import ChangeContext, apply_changes
from carebook.users.credentials import create_api_key
from carebook.users.models import User


@dataclass(frozen=True)
class NewProvider:
    """What ``carebook provider create`` prints."""

    user_id: int
    organization_id: int
    api_key: str


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


async def create_staff_user(
    session: AsyncSession,
    *,
    passwords: Passwords,
    fields: Mapping[str, Any],
    organization_name: str | None = None,
    organization_id: int | None = None,
    role: Role = Role.PROVIDER,
) -> User:
    """A provider or staff member in a given or new organization, with an invite code."""
    organization = await get_or_create_organization(session, organization_name, organization_id)
    user = User(organization_id=organization.id, role=role.value, active=True)
    await apply_changes(ChangeContext(session, organization.id, passwords), user, fields)
    if not organization_name and organization_id is None:
        # Two names of up to 100 characters each and the suffix exceed the column: cut.
        organization.name = f"{user.first_name} {user.last_name}'s practice"[: lengths.LABEL]
    user.invite_code = new_invite_code()
    session.add(user)
    await session.flush()
    return user


async def create_provider(
    session: AsyncSession,
    *,
    passwords: Passwords,
    email: str,
    first_name: str,
    last_name: str,
    organization_name: str | None = None,
    organization_id: int | None = None,
    password: str | None = None,
    role: Role = Role.PROVIDER,
) -> NewProvider:
    """A provider or staff member with an API key (``carebook provider create``)."""
    fields: dict[str, str] = {"first_name": first_name, "last_name": last_name, "email": email}
    if password is not None:
        fields["password"] = password
    user = await create_staff_user(
        session,
        passwords=passwords,
        fields=fields,
        organization_name=organization_name,
        organization_id=organization_id,
        role=role,
    )
    api_key = await create_api_key(session, user=user)
    return NewProvider(user_id=user.id, organization_id=user.organization_id, api_key=api_key)


async def set_open_sign_up(
    session: AsyncSession, organization_id: int, open_sign_up: bool | None
) -> bool:
    """Turn open patient sign-up on or off (None: leave it); whether it is now on.

    Off, ``signUp`` with only a ``dietitian_id`` answers exactly as for an unknown provider, and
    patients join with an invite code or are added by staff (docs/api.md, "Open sign-up").
    """
    organization = await session.get(Organization, organization_id)
    if organization is None:
        raise Invalid.field("organization_id", "Organization not found")
    if open_sign_up is not None:
        organization.open_sign_up = open_sign_up
        await session.flush()
    return organization.open_sign_up
