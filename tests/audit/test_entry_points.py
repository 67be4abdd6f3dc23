"""Writes from outside GraphQL are audited like GraphQL's: the set-password page, the CLI, and a
write session whose opener gave no origin (recorded as ``system``, never left out)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import select

from carebook import builders
from carebook.audit.models import AuditEvent
from carebook.auth.models import SessionToken
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.users.models import User
from tests.audit.events import brief, stored
from tests.support.api import Api
from tests.support.emails import NEW_PASSWORD, SIGN_IN_WITH_TOKEN, create_client, token_of
from tests.support.world import World

# Columns that say where an event came from; the others must be alike whatever the entry point.
_WHERE = {"id", "occurred_at", "operation", "client_address", "request_id"}


async def _invited(api: Api, world: World, email: str) -> tuple[int, str]:
    """A new patient of organization A (id) and the token of their set-password link."""
    payload = await create_client(
        api.with_key(world.a.provider.api_key), first_name="Grace", last_name="Hopper", email=email
    )
    assert payload["messages"] is None, payload
    return int(payload["user"]["id"]), token_of(payload["user"]["set_password_link"])


async def _sessions_of(database: Database, user_id: int) -> int:
    async with database.read_sessions() as session:
        query = select(SessionToken.id).where(SessionToken.user_id == user_id)
        return len(list((await session.execute(query)).scalars()))


def _columns(event: AuditEvent) -> dict[str, object]:
    return {c.name: getattr(event, c.name) for c in AuditEvent.__table__.columns}


async def test_the_set_password_page_records_its_update_like_sign_in_does(
    api: Api, world: World, database: Database, client: httpx.AsyncClient
) -> None:
    page_user, page_token = await _invited(api, world, "grace.page@example.com")
    api_user, api_token = await _invited(api, world, "grace.api@example.com")

    refused = await client.post(
        "/set_password",
        data={"token": page_token, "password": NEW_PASSWORD, "password_confirmation": "other"},
    )
    assert refused.status_code == 400
    assert await stored(database, operation="web:set_password") == []

    done = await client.post(
        "/set_password",
        data={"token": page_token, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD},
        headers={"X-Request-ID": "page-request-1"},
    )
    assert done.status_code == 200, done.text
    signed = await api.data(SIGN_IN_WITH_TOKEN, {"t": api_token, "p": NEW_PASSWORD})
    assert signed["signIn"]["messages"] is None
    # The page sets the password and signs no one in; signIn issues the session it answers.
    assert await _sessions_of(database, page_user) == 0
    assert await _sessions_of(database, api_user) == 1

    [by_page] = await stored(database, operation="web:set_password")
    assert brief([by_page]) == [("web:set_password", "update", page_user, True)]
    assert by_page.request_id == "page-request-1"
    assert by_page.client_address is not None
    assert by_page.organization_id == world.a.provider.organization_id
    assert (by_page.actor_user_id, by_page.actor_role, by_page.credential) == (None, None, None)
    # The same event as signIn(reset_token:)'s, but for where it came from.
    [by_api] = await stored(database, operation="signIn")
    assert by_api.record_id == api_user
    same = {k: v for k, v in _columns(by_page).items() if k not in _WHERE | {"record_id"}}
    assert same == {k: v for k, v in _columns(by_api).items() if k not in _WHERE | {"record_id"}}


def _demo(database_url: str, patients: int) -> None:
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url, "CAREBOOK_ARGON2_TIME_COST": "1",
           "CAREBOOK_ARGON2_MEMORY_COST_KIB": "1024"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", "demo", "--patients", str(patients)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


async def test_demo_records_every_patient_write_as_its_provider(
    database_url: str, database: Database
) -> None:
    _demo(database_url, 3)
    async with database.read_sessions() as session:
        lead = (
            await session.scalars(select(User).where(User.email == "demo.provider@example.com"))
        ).one()
        patients = list(
            (
                await session.scalars(
                    select(User.id).where(User.role == "patient").order_by(User.id)
                )
            ).all()
        )
    events = await stored(database)
    # Each patient: created, tagged; every other one also gets an address.
    expected = []
    for index, patient in enumerate(patients):
        expected += [("cli:demo", "create", patient, True), ("cli:demo", "update", patient, True)]
        if index % 2 == 0:
            expected.append(("cli:demo", "update", patient, True))
    assert brief(events) == expected
    assert {(e.actor_user_id, e.actor_role, e.credential, e.client_address) for e in events} == {
        (lead.id, "provider", "cli", None)
    }
    assert {e.organization_id for e in events} == {lead.organization_id}
    [run] = {e.request_id for e in events}  # one run, one id
    assert run.startswith("cli-")


async def test_a_write_session_without_an_origin_is_recorded_as_system(
    world: World, database: Database, passwords: Passwords
) -> None:
    async with database.write_sessions() as session, session.begin():
        patient = await builders.patient(
            session, passwords, actor=builders.actor_of(world.a.provider), email="x@example.com"
        )
    [event] = await stored(database)
    assert brief([event]) == [("system", "create", patient.id, True)]
    assert (event.actor_user_id, event.credential, event.client_address) == (None, "system", None)
    assert event.organization_id == world.a.provider.organization_id
    assert event.request_id.startswith("system-")


def test_no_module_of_carebook_loads_data_without_a_trail() -> None:
    """Skipping the trail is for the tests' fixtures only: no entry point may use it."""
    source = Path(__file__).parents[2] / "src" / "carebook"
    callers = [
        path.relative_to(source).as_posix()
        for path in source.rglob("*.py")
        if "load_without_trail(" in path.read_text(encoding="utf-8")
    ]
    assert callers == ["audit/trail.py"]
