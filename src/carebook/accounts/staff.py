"""Creating providers and staff members: an account, its organization when new, an API key.

A flow (``carebook provider create``, sign-up of a new practice, the demo and the bench): it
composes the users' field rules (accounts.changes), organizations and credentials.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts.changes import ChangeContext, apply_changes
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.auth.tokens import new_invite_code
from carebook.db import lengths
from carebook.organizations.service import get_or_create_organization
from carebook.users.credentials import create_api_key
from carebook.users.inputs import Profile
from carebook.users.models import User
from carebook.users.new_password import Prehashed


@dataclass(frozen=True)
class NewProvider:
    """What ``carebook provider create`` prints."""

    user_id: int
    organization_id: int
    api_key: str


async def create_staff_user(
    session: AsyncSession,
    *,
    passwords: Passwords,
    fields: Profile,
    required: Collection[str] = (),
    organization_name: str | None = None,
    organization_id: int | None = None,
    new_organization: bool = False,
    role: Role = Role.PROVIDER,
    prehashed: Prehashed | None = None,
) -> User:
    """A provider or staff member in a given or new organization, with an invite code.

    ``required`` fields are checked even when not given, as in apply_changes. ``prehashed``:
    the password's hash made before the write transaction (users/new_password.py).
    ``organization_name`` joins that organization, or names a new one with ``new_organization``.
    """
    organization = await get_or_create_organization(
        session, organization_name, organization_id, create=new_organization
    )
    user = User(organization_id=organization.id, role=role.value, active=True)
    ctx = ChangeContext(session, organization.id, passwords, prehashed=prehashed)
    await apply_changes(ctx, user, fields, required)
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
    new_organization: bool = False,
    password: str | None = None,
    role: Role = Role.PROVIDER,
) -> NewProvider:
    """A provider or staff member with an API key (``carebook provider create``)."""
    profile = Profile(first_name=first_name, last_name=last_name, email=email, password=password)
    user = await create_staff_user(
        session,
        passwords=passwords,
        fields=profile,
        organization_name=organization_name,
        organization_id=organization_id,
        new_organization=new_organization,
        role=role,
    )
    api_key = await create_api_key(session, user=user)
    return NewProvider(user_id=user.id, organization_id=user.organization_id, api_key=api_key)
