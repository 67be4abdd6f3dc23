"""updateUser: a patient moving their own address to another patient's learns nothing of them.

The update changes nothing, the address's owner is told by email (once a day), and the caller's
one message does not say the address is a patient's; every other problem is answered as it is
with a free address. Staff, who see the practice's patients anyway, still get "taken".
"""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.db import count, outbox, user_snapshot
from tests.support.world import PATIENT_PASSWORD, World

from carebook.accounts.own_email import OWN_EMAIL_UNUSABLE
from carebook.db.engine import Database
from carebook.events.models import Event
from carebook.locations.models import Location

UPDATE = """mutation($input: updateUserInput) { updateUser(input: $input) {
  user { id email first_name } messages { field message } } }"""
OTHERS = "other.a@example.com"  # world.a.other_patient_id's address
UNUSABLE = [{"field": "email", "message": OWN_EMAIL_UNUSABLE}]
HOME = {"name": "Home", "line1": "1 Main St", "city": "Albany", "state": "NY", "zip": "12207"}


async def _update(api: Api, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(UPDATE, {"input": fields}))["updateUser"]
    return payload


async def test_another_patients_address_changes_nothing_and_tells_its_owner(
    api: Api, world: World, database: Database
) -> None:
    patient = api.with_token(world.a.patient_token)
    before = await user_snapshot(database, world.a.patient_id)
    locations, events = await count(database, Location), await count(database, Event)
    for spelling in ("Other.A@Example.com", OTHERS):
        payload = await _update(
            patient,
            email=spelling,
            first_name="Changed",
            locations=[HOME],
            current_password=PATIENT_PASSWORD,
        )
        assert payload == {"user": None, "messages": UNUSABLE}
    assert await user_snapshot(database, world.a.patient_id) == before
    assert await count(database, Location) == locations
    assert await count(database, Event) == events  # no patient.updated for a change not made
    # Told once: a second try the same day queues no second email.
    assert [(r, k) for r, k in await outbox(database) if k == "account_exists"] == [
        (world.a.other_patient_id, "account_exists")
    ]


async def test_other_problems_answer_the_same_for_a_taken_and_a_free_address(
    api: Api, world: World, database: Database
) -> None:
    patient = api.with_token(world.a.patient_token)
    answers = [
        await _update(
            patient, email=email, phone_number="not a phone", current_password=PATIENT_PASSWORD
        )
        for email in (OTHERS, "free.address@example.com")
    ]
    assert answers[0] == answers[1]
    assert [m["field"] for m in answers[0]["messages"]] == ["phone_number"]
    wrong_password = [
        await _update(patient, email=email, current_password="not it at all")
        for email in (OTHERS, "free.address@example.com")
    ]
    assert wrong_password[0] == wrong_password[1]
    assert [m["field"] for m in wrong_password[0]["messages"]] == ["current_password"]
    assert [k for _, k in await outbox(database) if k == "account_exists"] == []


async def test_a_free_address_is_still_applied(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    # Another practice's patient has this one: within practice A it is free.
    payload = await _update(
        patient, email="patient.b@example.com", current_password=PATIENT_PASSWORD
    )
    assert payload["messages"] is None
    assert payload["user"]["email"] == "patient.b@example.com"


async def test_staff_still_hear_that_the_address_is_taken(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    payload = await _update(provider, id=str(world.a.patient_id), email=OTHERS)
    assert payload["messages"] == [{"field": "email", "message": "Email has already been taken"}]
    assert [k for _, k in await outbox(database) if k == "account_exists"] == []
