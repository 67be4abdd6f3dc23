"""Builders of realistic records, shared by ``carebook demo`` and the tests.

They go through the same services as the API, so demo data and test data obey every rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts import service
from carebook.accounts.staff import NewProvider, create_provider
from carebook.auth.actor import Actor
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.user_groups import service as group_service
from carebook.user_groups.models import UserGroup
from carebook.users.inputs import NewClient
from carebook.users.models import User

FIRST_NAMES = ["Jonas", "José", "Amara", "Mei", "Olivia", "Liam", "Zoë", "Ravi", "Fatima", "Noah"]
LAST_NAMES = [
    "Salk",
    "García",
    "Okafor",
    "Chen",
    "Müller",
    "Nguyen",
    "O'Brien",
    "Patel",
    "Kowalski",
]


async def provider(
    session: AsyncSession,
    passwords: Passwords,
    *,
    email: str,
    organization: str | None = None,
    organization_id: int | None = None,
    new_organization: bool = False,
    role: Role = Role.PROVIDER,
    first_name: str = "Pat",
    last_name: str = "Provider",
    password: str | None = None,
) -> NewProvider:
    """A provider (or staff member) with an API key."""
    return await create_provider(
        session,
        passwords=passwords,
        email=email,
        first_name=first_name,
        last_name=last_name,
        organization_name=organization,
        organization_id=organization_id,
        new_organization=new_organization,
        password=password,
        role=role,
    )


def actor_of(created: NewProvider, role: Role = Role.PROVIDER) -> Actor:
    """The Actor of a provider made by :func:`provider`."""
    return Actor(user_id=created.user_id, organization_id=created.organization_id, role=role)


async def group(
    session: AsyncSession, *, organization_id: int, name: str, onboarding_flow_id: int | None = None
) -> UserGroup:
    """A user group with a fresh invite code, through the groups service (unique names)."""
    return await group_service.add_group(
        session, organization_id=organization_id, name=name, onboarding_flow_id=onboarding_flow_id
    )


async def patient(
    session: AsyncSession, passwords: Passwords, *, actor: Actor, **fields: Any
) -> User:
    """A patient created through createClient's service (no welcome email by default)."""
    data: dict[str, Any] = {"first_name": "Jonas", "last_name": "Salk", "dont_send_welcome": True}
    data.update(fields)
    if "email" not in data and not data.get("skipped_email"):
        data["email"] = f"{data['first_name']}.{data['last_name']}.{id(data)}@example.com".lower()
    return await service.create_client(
        session, actor=actor, passwords=passwords, fields=NewClient(**data)
    )
