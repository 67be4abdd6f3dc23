"""Anonymous signUp and completeCheckout do not tell whether an email is a patient (issue 22).

Every answer short of a successful enrollment is the same for a patient's email (active,
archived or invited) as for an unknown one: body, status and the SQL statements sent. A fully
valid request with a patient's email creates nothing; its owner is emailed instead, and the
attempt is in the practice's audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.audit.events import stored
from tests.support.api import Api
from tests.support.db import count, outbox, statements_sent
from tests.support.scheduling import CHECKOUT, create_type, future
from tests.support.seed_documents import BULK_UPDATE_CLIENTS, CREATE_CLIENT
from tests.support.world import World

from carebook.auth.models import SessionToken
from carebook.db.engine import Database
from carebook.ratelimit import guard
from carebook.scheduling.models import Appointment
from carebook.users.enrollment import CHECKOUT_EMAIL_UNUSABLE, SIGN_UP_EMAIL_UNUSABLE
from carebook.users.models import User

SIGN_UP = """mutation($first_name: String, $last_name: String, $email: String, $password: String,
  $dietitian_id: String) {
  signUp(input: {first_name: $first_name, last_name: $last_name, email: $email,
    password: $password, role: "patient", dietitian_id: $dietitian_id}) {
    user { id } token messages { field message } } }"""
STRONG = "b@se3ball rocks"
UNKNOWN = "nobody.here@example.com"

Send = Callable[[str], Awaitable[httpx.Response]]


@pytest.fixture(autouse=True)
def _no_random_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limiter deletes expired windows after one attempt in 50, chosen at random."""
    monkeypatch.setattr(guard, "CLEANUP_ONE_IN", 2**62)


async def _known_emails(api: Api, world: World) -> list[str]:
    """An active patient's, an invited one's (no password yet) and an archived one's email."""
    provider = api.with_key(world.a.provider.api_key)
    invited = await provider.data(
        CREATE_CLIENT,
        {"first_name": "In", "last_name": "Vited", "email": "invited@example.com"},
    )
    archived = await provider.data(
        CREATE_CLIENT,
        {"first_name": "Ar", "last_name": "Chived", "email": "archived@example.com"},
    )
    archived_id = archived["createClient"]["user"]["id"]
    await provider.data(BULK_UPDATE_CLIENTS, {"ids": [archived_id], "active_status": False})
    assert invited["createClient"]["messages"] in ([], None)
    return ["patient.a@example.com", "INVITED@example.com", "archived@example.com"]


def _sign_up(api: Api, world: World, **overrides: Any) -> Send:
    async def send(email: str) -> httpx.Response:
        variables = {
            "first_name": "Mei",
            "last_name": "Chen",
            "password": STRONG,
            "dietitian_id": str(world.a.provider.user_id),
            **overrides,
            "email": email,
        }
        return await api.client.post("/graphql", json={"query": SIGN_UP, "variables": variables})

    return send


def _checkout(api: Api, world: World, type_id: str, **overrides: Any) -> Send:
    async def send(email: str) -> httpx.Response:
        variables = {
            "appointment_type_id": type_id,
            "provider_id": str(world.a.provider.user_id),
            "date": future(days=3).isoformat(),
            "first_name": "Jonas",
            "last_name": "Salk",
            **overrides,
            "email": email,
        }
        return await api.client.post("/graphql", json={"query": CHECKOUT, "variables": variables})

    return send


def _shape(statements: list[str]) -> list[str]:
    """The statements, without the rate limiter's (keyed by the email, cleaned up at random)."""
    kept = [s for s in statements if "rate_limit_counters" not in s]
    return [re.sub(r"\s+", " ", s).strip() for s in kept]


async def _answer(database: Database, send: Send, email: str) -> tuple[int, Any, list[str]]:
    with statements_sent(database) as statements:
        response = await send(email)
    return response.status_code, response.json(), _shape(statements)


async def _assert_same_for_every_email(
    database: Database, send: Send, known: list[str]
) -> dict[str, Any]:
    users, tokens = await count(database, User), await count(database, SessionToken)
    emails = await outbox(database)
    await send(UNKNOWN)  # the first request may still carry the audit trail of earlier ones
    status, body, shape = await _answer(database, send, UNKNOWN)
    for email in known:
        assert await _answer(database, send, email) == (status, body, shape), email
    assert await count(database, User) == users
    assert await count(database, SessionToken) == tokens
    assert await outbox(database) == emails  # no one was told anything
    assert status == 200
    result: dict[str, Any] = body
    return result


@pytest.mark.parametrize(
    "invalid",
    [
        {"first_name": "", "last_name": " ", "password": "password"},
        {"password": "short"},
        {"dietitian_id": "999999"},
    ],
)
async def test_sign_up_answers_the_same_for_known_and_unknown_emails(
    api: Api, world: World, database: Database, invalid: dict[str, Any]
) -> None:
    known = await _known_emails(api, world)
    send = _sign_up(api, world, **invalid)
    body = await _assert_same_for_every_email(database, send, known)
    messages = body["data"]["signUp"]["messages"]
    assert messages and all(m["field"] != "email" for m in messages), messages


async def test_checkout_answers_the_same_for_known_and_unknown_emails(
    api: Api, world: World, database: Database
) -> None:
    known = await _known_emails(api, world)
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    # Blank names (the first check of old), then a valid patient at a time in the past, then
    # at a time the provider is busy: none of them looks at who has the email.
    for overrides in (
        {"first_name": "", "last_name": ""},
        {"date": "2020-01-06T10:00:00Z"},
        {"date": "not a date"},
    ):
        body = await _assert_same_for_every_email(
            database, _checkout(api, world, type_id, **overrides), known
        )
        payload = body["data"]["completeCheckout"]
        assert payload["appointment"] is None
        assert payload["messages"] and payload["messages"][0]["field"] != "email", payload
    taken = future(days=5).isoformat()
    first = await _checkout(api, world, type_id, date=taken)("first.booker@example.com")
    assert first.json()["data"]["completeCheckout"]["appointment"]
    await _assert_same_for_every_email(database, _checkout(api, world, type_id, date=taken), known)


async def test_a_valid_sign_up_with_a_patients_email_tells_the_owner_not_the_caller(
    api: Api, world: World, database: Database
) -> None:
    known = await _known_emails(api, world)
    send = _sign_up(api, world)
    for email in known:
        users = await count(database, User)
        payload = (await send(email)).json()["data"]["signUp"]
        assert payload == {
            "user": None,
            "token": None,
            "messages": [{"field": "email", "message": SIGN_UP_EMAIL_UNUSABLE}],
        }
        assert await count(database, User) == users
    owners = await _owners(database, world, known)
    assert [(r, k) for r, k in await outbox(database) if k == "account_exists"] == [
        (owner, "account_exists") for owner in owners
    ]
    # Recorded for practice A, refused, without naming the record.
    events = await stored(database, operation="signUp", allowed=False)
    assert [(e.organization_id, e.record_id, e.actor_user_id) for e in events] == [
        (world.a.provider.organization_id, None, None)
    ] * 3


async def test_a_valid_checkout_with_a_patients_email_tells_the_owner_and_books_nothing(
    api: Api, world: World, database: Database
) -> None:
    known = await _known_emails(api, world)
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    send = _checkout(api, world, type_id)
    for email in known:
        payload = (await send(email)).json()["data"]["completeCheckout"]
        assert payload == {
            "appointment": None,
            "billingItem": None,
            "patientEmail": None,
            "messages": [{"field": "email", "message": CHECKOUT_EMAIL_UNUSABLE}],
        }
    assert await count(database, Appointment) == 0
    owners = await _owners(database, world, known)
    assert [(r, k) for r, k in await outbox(database) if k == "account_exists"] == [
        (owner, "account_exists") for owner in owners
    ]
    events = await stored(database, operation="completeCheckout", allowed=False)
    assert [(e.organization_id, e.record_id) for e in events] == [
        (world.a.provider.organization_id, None)
    ] * 3


async def test_refused_anonymous_attempts_are_recorded_for_the_practice_aimed_at(
    api: Api, world: World, database: Database
) -> None:
    send = _sign_up(api, world, first_name="", password="password")
    await send(UNKNOWN)
    events = await stored(database, operation="signUp")
    assert [(e.organization_id, e.record_id, e.allowed) for e in events] == [
        (world.a.provider.organization_id, None, False)
    ]
    # An unknown provider names no practice: nothing anyone could read is recorded.
    await _sign_up(api, world, dietitian_id="999999")(UNKNOWN)
    assert len(await stored(database, operation="signUp")) == 1


async def _owners(database: Database, world: World, emails: list[str]) -> list[int]:
    """The ids of organization A's patients with these emails, in order."""
    async with database.read_sessions() as session:
        ids = []
        for email in emails:
            query = select(User.id).where(
                User.organization_id == world.a.provider.organization_id,
                User.role == "patient",
                User.email_key == email.lower(),
            )
            ids.append((await session.execute(query)).scalar_one())
    return ids
