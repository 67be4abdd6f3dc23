"""Two organizations, so every visibility test can check that nothing crosses between them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from carebook import builders
from carebook.accounts.staff import NewProvider
from carebook.audit.trail import load_without_trail
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.db.engine import Database
from carebook.users.credentials import issue_session_token

PATIENT_PASSWORD = "b@se3ball rocks"


@dataclass
class Org:
    """One organization's cast."""

    provider: NewProvider
    staff: NewProvider
    group_id: int
    patient_id: int
    patient_token: str
    other_patient_id: int


@dataclass
class World:
    """Organization A and organization B."""

    a: Org
    b: Org


async def _org(database: Database, passwords: Passwords, tag: str) -> Org:
    async with database.write_sessions() as session, session.begin():
        load_without_trail(session)  # fixture data: no one's activity
        provider = await builders.provider(
            session,
            passwords,
            email=f"provider.{tag}@example.com",
            first_name="Prov",
            last_name=tag.upper(),
        )
        staff = await builders.provider(
            session,
            passwords,
            email=f"staff.{tag}@example.com",
            organization_id=provider.organization_id,
            role=Role.STAFF,
            first_name="Staff",
            last_name=tag.upper(),
        )
        group = await builders.group(
            session, organization_id=provider.organization_id, name=f"Group {tag}"
        )
        actor = builders.actor_of(provider)
        patient = await builders.patient(
            session,
            passwords,
            actor=actor,
            first_name="Pat",
            last_name=f"Ient{tag.upper()}",
            email=f"patient.{tag}@example.com",
            password=PATIENT_PASSWORD,
        )
        other = await builders.patient(
            session,
            passwords,
            actor=actor,
            first_name="Other",
            last_name=f"Ient{tag.upper()}",
            email=f"other.{tag}@example.com",
        )
        token = await issue_session_token(session, user=patient, ttl=timedelta(hours=1))
        return Org(provider, staff, group.id, patient.id, token, other.id)


async def build_world(database: Database, passwords: Passwords) -> World:
    """Organization A and B, each with a provider, a staff member, a group and two patients."""
    return World(a=await _org(database, passwords, "a"), b=await _org(database, passwords, "b"))
