"""A practice can close open patient sign-up: then only invite codes let a patient sign up.

Closed, ``signUp(dietitian_id:)`` answers exactly as for an id that names no provider, so an
anonymous caller cannot tell a closed practice's providers from unused ids (issue 22, item 11).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from sqlalchemy import update
from tests.auth.test_enrollment_oracle import CHECKOUT_ALL, UNKNOWN, _answer, _checkout, _shape
from tests.support.api import Api
from tests.support.auth_helpers import count_rows, group_invite_code, user_invite_code
from tests.support.db import statements_sent
from tests.support.scheduling import create_type, future
from tests.support.world import World

from carebook.db.engine import Database
from carebook.organizations.models import Organization
from carebook.scheduling.models import Appointment
from carebook.users.models import User

SIGN_UP = """mutation($email: String, $dietitian_id: String, $invite_code: String) {
  signUp(input: {first_name: "Mei", last_name: "Chen", email: $email, password: "b@se3ball rocks",
    role: "patient", dietitian_id: $dietitian_id, invite_code: $invite_code}) {
    user { id } token messages { field message } } }"""


async def _close(database: Database, organization_id: int) -> None:
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(Organization)
            .where(Organization.id == organization_id)
            .values(open_sign_up=False)
        )


async def _sign_up(api: Api, email: str, **variables: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/graphql", json={"query": SIGN_UP, "variables": {"email": email, **variables}}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_a_closed_practice_answers_like_an_unknown_provider(
    api: Api, world: World, database: Database
) -> None:
    await _close(database, world.a.provider.organization_id)
    users = await count_rows(database, User)
    unknown = await _sign_up(api, "mei@example.com", dietitian_id="999999")
    for provider_id in (world.a.provider.user_id, world.a.staff.user_id):
        closed = await _sign_up(api, "mei@example.com", dietitian_id=str(provider_id))
        assert closed == unknown
    assert unknown["data"]["signUp"]["messages"] == [
        {"field": "dietitian_id", "message": "Provider not found"}
    ]
    assert await count_rows(database, User) == users
    # Another practice is still open.
    other = await _sign_up(api, "mei@example.com", dietitian_id=str(world.b.provider.user_id))
    assert other["data"]["signUp"]["user"]


async def test_a_closed_practice_still_takes_invite_codes(
    api: Api, world: World, database: Database
) -> None:
    await _close(database, world.a.provider.organization_id)
    provider_code = await user_invite_code(database, world.a.provider.user_id)
    group_code = await group_invite_code(database, world.a.group_id)
    for n, variables in enumerate(
        [
            {"invite_code": provider_code},
            {"invite_code": group_code},
            {"invite_code": group_code, "dietitian_id": str(world.a.staff.user_id)},
        ]
    ):
        payload = (await _sign_up(api, f"mei.{n}@example.com", **variables))["data"]["signUp"]
        assert payload["user"] and payload["token"], payload


WEAK = """mutation($dietitian_id: String, $password: String, $first_name: String) {
  signUp(input: {first_name: $first_name, last_name: "Chen", email: "mei@example.com",
    password: $password, role: "patient", dietitian_id: $dietitian_id}) {
    user { id } token messages { field message } } }"""


async def test_a_patients_own_mistakes_answer_the_same_for_every_provider_id(
    api: Api, world: World, database: Database
) -> None:
    """Otherwise a weak password would sort ids into providers and free ids, signing up no one."""
    await _close(database, world.b.provider.organization_id)
    ids = [
        world.a.provider.user_id,  # open practice
        world.b.provider.user_id,  # invite-only practice
        world.a.patient_id,  # not a provider
        999999,  # no one
    ]
    for mistakes in ({"password": "password"}, {"first_name": "", "password": "b@se3ball rocks"}):
        answers = [
            await api.post(WEAK, {"dietitian_id": str(i), "first_name": "Mei", **mistakes})
            for i in ids
        ]
        assert all(answer == answers[0] for answer in answers), answers
        messages = answers[0]["data"]["signUp"]["messages"]
        assert messages and all(m["field"] != "dietitian_id" for m in messages), messages


def _cli(database_url: str, *args: str) -> str:
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", "organization", "sign-up", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def test_the_command_line_shows_and_changes_the_setting(
    api: Api, world: World, database: Database, database_url: str
) -> None:
    org = str(world.a.provider.organization_id)
    assert _cli(database_url, org) == f"organization {org}: patient sign-up is open"
    closed = _cli(database_url, org, "--invite-only")
    assert closed == f"organization {org}: patient sign-up is invite-only"
    refused = await _sign_up(api, "a@example.com", dietitian_id=str(world.a.provider.user_id))
    assert refused["data"]["signUp"]["user"] is None
    assert _cli(database_url, org, "--open").endswith("patient sign-up is open")
    opened = await _sign_up(api, "a@example.com", dietitian_id=str(world.a.provider.user_id))
    assert opened["data"]["signUp"]["user"]


def test_an_unknown_organization_is_an_error(database_url: str, world: World) -> None:
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", "organization", "sign-up", "999999"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Organization not found" in done.stderr


ANSWER = """mutation($email: String, $dietitian_id: String) {
  signUp(input: {first_name: "Mei", last_name: "Chen", email: $email, password: "b@se3ball rocks",
    role: "patient", dietitian_id: $dietitian_id}) {
    token
    user { id email first_name dietitian_id other_provider_ids
           dietitian { id first_name last_name email } providers { id first_name email }
           organization { id name } user_group { id name } }
    messages { field message } } }"""
LINKS = """{ currentUser { id email dietitian { first_name email } organization { name } } }"""


async def test_the_sign_up_answer_shows_nothing_of_the_provider_or_practice(
    api: Api, world: World
) -> None:
    provider = str(world.a.provider.user_id)
    body = await api.post(ANSWER, {"email": "mei@example.com", "dietitian_id": provider})
    payload = body["data"]["signUp"]
    assert payload["messages"] is None
    user = payload["user"]
    # The new patient's own fields, as they typed them; no name, email or practice of anyone.
    assert user["email"] == "mei@example.com" and user["first_name"] == "Mei"
    assert user["dietitian"] is None and user["providers"] == []
    assert user["organization"] is None and user["user_group"] is None
    assert "Prov" not in str(body) and "provider.a@" not in str(body)
    # Signed in with the token, they read their provider as any patient does: no contact details.
    me = (await api.with_token(payload["token"]).data(LINKS))["currentUser"]
    assert me["dietitian"] == {"first_name": "Prov", "email": None}
    assert me["organization"]["name"]


async def test_a_sign_in_answer_still_follows_links(api: Api, world: World) -> None:
    document = """mutation { signIn(input: {email: "patient.a@example.com",
      password: "b@se3ball rocks"}) { user { dietitian { first_name } } } }"""
    user = (await api.data(document))["signIn"]["user"]
    assert user == {"dietitian": {"first_name": "Prov"}}


async def test_an_invite_only_practice_refuses_anonymous_checkout_like_an_unknown_provider(
    api: Api, world: World, database: Database
) -> None:
    """Anonymous completeCheckout creates patients too: closed, it is refused for every email,
    with the answer and the statements of a provider id that names no one."""
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    await _close(database, world.a.provider.organization_id)
    users = await count_rows(database, User)
    unknown = _checkout(api, world, type_id, provider_id="999999")
    expected = await _answer(database, unknown, UNKNOWN)
    assert expected[1]["data"]["completeCheckout"]["messages"] == [
        {"field": "provider_id", "message": "Provider not found"}
    ]
    for provider_id in (world.a.provider.user_id, world.a.staff.user_id):
        closed = _checkout(api, world, type_id, provider_id=str(provider_id))
        for email in (UNKNOWN, "patient.a@example.com"):
            assert await _answer(database, closed, email) == expected, (provider_id, email)
    assert await count_rows(database, User) == users
    assert await count_rows(database, Appointment) == 0
    # A signed-in patient of the practice still books: invite-only closes sign-up, not booking.
    patient = await api.with_token(world.a.patient_token).data(
        CHECKOUT_ALL.replace("$email: String, ", "").replace("email: $email, ", ""),
        {
            "appointment_type_id": type_id,
            "provider_id": str(world.a.provider.user_id),
            "date": future(days=4).isoformat(),
        },
    )
    assert patient["completeCheckout"]["appointment"], patient


CHECKOUT_ANSWER = """mutation($type: String, $provider: String, $date: String) {
  completeCheckout(input: {appointment_type_id: $type, provider_id: $provider, date: $date,
    email: "jonas@example.com", first_name: "Jonas", last_name: "Salk"}) {
    appointment { id provider { id first_name email }
      user { id email first_name dietitian { first_name } providers { first_name }
             organization { name } user_group { name } } }
    patientEmail messages { field message } } }"""


async def test_the_anonymous_checkout_answer_shows_nothing_of_the_provider_or_practice(
    api: Api, world: World
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    variables = {
        "type": type_id,
        "provider": str(world.a.provider.user_id),
        "date": future(days=4).isoformat(),
    }
    body = await api.post(CHECKOUT_ANSWER, variables)
    payload = body["data"]["completeCheckout"]
    assert payload["messages"] is None
    appointment = payload["appointment"]
    assert appointment["id"] and appointment["provider"] is None
    user = appointment["user"]
    assert user["email"] == "jonas@example.com" and user["first_name"] == "Jonas"
    assert user["dietitian"] is None and user["providers"] == []
    assert user["organization"] is None and user["user_group"] is None
    assert "Prov" not in str(body) and "provider.a@" not in str(body)
    # A signed-in patient's own checkout still names the provider they booked.
    variables["date"] = future(days=5).isoformat()
    signed_in = await api.with_token(world.a.patient_token).data(
        CHECKOUT_ANSWER.replace('email: "jonas@example.com", first_name: "Jonas", ', "").replace(
            'last_name: "Salk"', ""
        ),
        variables,
    )
    assert signed_in["completeCheckout"]["appointment"]["provider"]["first_name"] == "Prov"


async def test_a_closed_practices_provider_and_an_unused_id_send_the_same_statements(
    api: Api, world: World, database: Database
) -> None:
    """One statement more for a closed practice would tell its providers from unused ids."""
    await _close(database, world.a.provider.organization_id)
    await _sign_up(api, "warm@example.com", dietitian_id="999999")  # the first carries the audit

    async def sent(dietitian_id: str) -> tuple[dict[str, Any], list[str]]:
        with statements_sent(database) as statements:
            body = await _sign_up(api, "mei@example.com", dietitian_id=dietitian_id)
        return body, _shape(statements)

    unused = await sent("999999")
    assert await sent(str(world.a.provider.user_id)) == unused
    assert await sent(str(world.a.staff.user_id)) == unused
