"""Anonymous signUp and completeCheckout do not tell whether an email is a patient (issue 22).

Every answer short of a successful enrollment is the same for a patient's email (active,
archived or invited) as for an unknown one: body, status and the SQL statements sent. A fully
valid request with a patient's email creates nothing; its owner is emailed instead, and the
attempt is in the practice's audit trail.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.audit.events import stored
from tests.support.api import Api
from tests.support.db import count, outbox, statements_sent
from tests.support.scheduling import create_offering, create_type, future
from tests.support.seed_documents import BULK_UPDATE_CLIENTS, CREATE_CLIENT
from tests.support.world import World

from carebook.accounts import enrollment
from carebook.accounts.enrollment import CHECKOUT_EMAIL_UNUSABLE, SIGN_UP_EMAIL_UNUSABLE
from carebook.auth.models import SessionToken
from carebook.checkout import service as checkout_service
from carebook.checkout.payments import TestPaymentProvider
from carebook.db.engine import Database
from carebook.ratelimit import guard
from carebook.scheduling import service as scheduling_service
from carebook.scheduling.models import Appointment
from carebook.users.models import User

SIGN_UP = """mutation($first_name: String, $last_name: String, $email: String, $password: String,
  $dietitian_id: String, $invite_code: String, $phone_number: String, $timezone: String) {
  signUp(input: {first_name: $first_name, last_name: $last_name, email: $email,
    password: $password, role: "patient", dietitian_id: $dietitian_id, invite_code: $invite_code,
    phone_number: $phone_number, timezone: $timezone}) {
    user { id } token messages { field message } } }"""
CHECKOUT_ALL = """mutation($appointment_type_id: String, $provider_id: String, $date: String,
  $email: String, $first_name: String, $last_name: String, $phone_number: String,
  $timezone: String, $offering_id: String, $token: String) {
  completeCheckout(input: {appointment_type_id: $appointment_type_id, provider_id: $provider_id,
    date: $date, email: $email, first_name: $first_name, last_name: $last_name,
    phone_number: $phone_number, timezone: $timezone, offering_id: $offering_id, token: $token}) {
    appointment { id start user { id email } provider { id } }
    billingItem { id amount_paid } patientEmail messages { field message } } }"""
# Independent ways for an enrollment to be wrong. Every one of them, alone or with another, must
# answer the same whoever has the email: none may be checked after the email is.
SIGN_UP_FAULTS: dict[str, dict[str, Any]] = {
    "names": {"first_name": "", "last_name": " "},
    "password": {"password": "password"},
    "phone": {"phone_number": "call me"},
    "timezone": {"timezone": "Mars/Olympus"},
    "provider": {"dietitian_id": "999999"},
    "invite_code": {"invite_code": "nosuchcode"},
}
CHECKOUT_FAULTS: dict[str, dict[str, Any]] = {
    "names": {"first_name": "", "last_name": ""},
    "phone": {"phone_number": "call me"},
    "timezone": {"timezone": "Mars/Olympus"},
    "past": {"date": "2020-01-06T10:00:00Z"},
    "date": {"date": "not a date"},
    "provider": {"provider_id": "999999"},
}


def _combinations(faults: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Every fault alone and every pair of faults, each with its merged overrides."""
    return [
        (" + ".join(names), {k: v for name in names for k, v in faults[name].items()})
        for size in (1, 2)
        for names in itertools.combinations(faults, size)
    ]


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
    assert invited["createClient"]["messages"] is None
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
        return await api.client.post(
            "/graphql", json={"query": CHECKOUT_ALL, "variables": variables}
        )

    return send


BEGIN = "BEGIN IMMEDIATE"


def _shape(statements: list[str]) -> list[str]:
    """The statements, without the rate limiter's (keyed by the email, cleaned up at random),
    and with each run of BEGIN IMMEDIATE sent as one: a BEGIN IMMEDIATE that finds the write
    lock taken (the audit trail's checkpoint, another test's writer) fails having changed
    nothing and is tried again (carebook.db.sqlite_batches polls it through
    carebook.db.lock_wait), which depends on the machine's load, not on the request. Two
    BEGINs in a row are never two transactions: the second would fail inside the first."""
    kept = [re.sub(r"\s+", " ", s).strip() for s in statements if "rate_limit_counters" not in s]
    return [s for i, s in enumerate(kept) if not (s == BEGIN and i > 0 and kept[i - 1] == BEGIN)]


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


async def test_sign_up_answers_the_same_for_known_and_unknown_emails(
    api: Api, world: World, database: Database
) -> None:
    known = await _known_emails(api, world)
    for name, overrides in _combinations(SIGN_UP_FAULTS):
        body = await _assert_same_for_every_email(
            database, _sign_up(api, world, **overrides), known
        )
        messages = body["data"]["signUp"]["messages"]
        assert messages and all(m["field"] != "email" for m in messages), (name, messages)


async def test_checkout_answers_the_same_for_known_and_unknown_emails(
    api: Api, world: World, database: Database
) -> None:
    known = await _known_emails(api, world)
    provider = api.with_key(world.a.provider.api_key)
    type_id = await create_type(provider)
    closed_type = await create_type(provider, name="Staff only", ccb=False)
    offering = await create_offering(provider, price="120")
    paid_type = await create_type(provider, name="Paid consult", pricing="80")
    taken = future(days=5).isoformat()
    first = await _checkout(api, world, type_id, date=taken)("first.booker@example.com")
    assert first.json()["data"]["completeCheckout"]["appointment"]
    faults = {
        **CHECKOUT_FAULTS,
        "busy": {"date": taken},
        "not_bookable": {"appointment_type_id": closed_type},
        "no_card": {"offering_id": offering},
        # The card is checked before the email: a declined card is no membership oracle.
        "declined": {"appointment_type_id": paid_type, "token": "tok_decline_x"},
    }
    for name, overrides in _combinations(faults):
        send = _checkout(api, world, type_id, **overrides)
        payload = (await _assert_same_for_every_email(database, send, known))["data"]
        answer = payload["completeCheckout"]
        assert answer["appointment"] is None, name
        assert answer["messages"] and answer["messages"][0]["field"] != "email", (name, answer)


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


async def test_a_paid_checkout_with_a_patients_email_releases_the_cards_hold(
    api: Api, world: World, database: Database, payment_provider: TestPaymentProvider
) -> None:
    processor = payment_provider
    type_id = await create_type(api.with_key(world.a.provider.api_key), pricing="80")
    payload = await _checkout(api, world, type_id, token="tok_visa")("patient.a@example.com")
    assert payload.json()["data"]["completeCheckout"]["messages"] == [
        {"field": "email", "message": CHECKOUT_EMAIL_UNUSABLE}
    ]
    assert processor.charges == {}
    assert processor.released == {a.reference for a in processor.authorizations.values()}
    assert len(processor.released) == 1
    new = (await _checkout(api, world, type_id, token="tok_visa")(UNKNOWN)).json()["data"]
    assert new["completeCheckout"]["billingItem"]["amount_paid"]
    assert len(processor.charges) == 1 and len(processor.released) == 1


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


async def test_the_owner_is_told_at_most_once_a_day(
    api: Api, world: World, database: Database
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    for send in (_sign_up(api, world), _sign_up(api, world), _checkout(api, world, type_id)):
        assert (await send("patient.a@example.com")).json()["data"]
    notices = [r for r, kind in await outbox(database) if kind == "account_exists"]
    assert notices == [world.a.patient_id]
    # Every attempt is still in the practice's trail.
    assert len(await stored(database, allowed=False)) == 3


async def test_nothing_checked_after_the_email_look_up_can_fail_for_a_new_email(
    api: Api, world: World, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slot is checked once, before the look-up. Re-checked after it, a start that passed
    in between (or a slot taken then) would refuse a new email on `date` while a patient's
    email is told "cannot be used": the time would sort emails (issue 22)."""
    start = future(days=3)
    look_up = enrollment.patient_with_email

    async def then_the_start_passes(*args: Any) -> int | None:
        found = await look_up(*args)
        late = start + timedelta(minutes=1)
        for module in (scheduling_service, checkout_service):
            monkeypatch.setattr(module, "utcnow", lambda: late)
        return found

    monkeypatch.setattr(enrollment, "patient_with_email", then_the_start_passes)
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    send = _checkout(api, world, type_id, date=start.isoformat())
    answer = (await send(UNKNOWN)).json()["data"]["completeCheckout"]
    assert answer["messages"] is None and answer["appointment"], answer
    assert await count(database, Appointment) == 1
