"""User.last_sign_in_at, last_active, last_activity, accessed_account, requires_reactivation:
written by signing in and (throttled) by authenticated requests, read as the record's fields."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import httpx
from tests.support.api import Api
from tests.support.auth_helpers import get_row, set_password
from tests.support.db import statements_sent
from tests.support.emails import SIGN_IN
from tests.support.groups import UPDATE_CLIENT_GROUP
from tests.support.world import PATIENT_PASSWORD, World

from carebook import times
from carebook.app import create_app
from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.users.models import User

ACTIVITY = """query($id: ID) { user(id: $id, clear_notifs: false) {
  id last_sign_in_at last_active last_activity accessed_account requires_reactivation
  has_created_password updated_at } }"""
OWN = "query { currentUser { id } }"
PROVIDER_PASSWORD = "Tr0mbone & quiet library"


async def _record(api: Api, world: World, user_id: int) -> dict[str, Any]:
    """The activity fields of a user of organization A, read by its staff member."""
    user: dict[str, Any] = (
        await api.with_key(world.a.staff.api_key).data(ACTIVITY, {"id": str(user_id)})
    )["user"]
    return user


async def _sign_in(api: Api, email: str, password: str) -> str:
    payload = (await api.data(SIGN_IN, {"e": email, "p": password}))["signIn"]
    assert not payload["messages"], payload
    token: str = payload["token"]
    return token


async def test_signing_in_moves_last_sign_in_at_and_the_record_stays_unchanged(
    api: Api, world: World, database: Database
) -> None:
    before = await _record(api, world, world.a.patient_id)
    # The world's token was issued without a sign-in: nothing says the patient came yet.
    assert before["last_sign_in_at"] is None
    assert before["last_active"] is None
    assert before["accessed_account"] is False

    await _sign_in(api, "patient.a@example.com", PATIENT_PASSWORD)
    first = await _record(api, world, world.a.patient_id)
    assert first["accessed_account"] is True
    assert first["last_active"] == first["last_sign_in_at"]
    assert first["last_activity"] == first["last_sign_in_at"]
    # Signing in is not a change of the record.
    assert first["updated_at"] == before["updated_at"]

    stored_first = (await get_row(database, User, world.a.patient_id)).last_sign_in_at
    await _sign_in(api, "patient.a@example.com", PATIENT_PASSWORD)
    second = await _record(api, world, world.a.patient_id)
    # The wire has whole seconds (Healthie's form): the stored values tell the two apart.
    stored_second = (await get_row(database, User, world.a.patient_id)).last_sign_in_at
    assert stored_first is not None and stored_second is not None
    assert stored_second > stored_first
    assert second["last_sign_in_at"] == times.render(stored_second, UTC)

    # Someone who never signed in keeps nothing of it.
    other = await _record(api, world, world.a.other_patient_id)
    assert (other["last_sign_in_at"], other["accessed_account"]) == (None, False)


async def test_a_failed_sign_in_records_nothing(api: Api, world: World) -> None:
    payload = (await api.data(SIGN_IN, {"e": "patient.a@example.com", "p": "wrong pass"}))["signIn"]
    assert payload["token"] is None
    record = await _record(api, world, world.a.patient_id)
    assert (record["last_sign_in_at"], record["accessed_account"]) == (None, False)


async def test_requests_in_the_window_write_the_activity_once(
    api: Api, world: World, database: Database
) -> None:
    patient = api.with_token(world.a.patient_token)
    with statements_sent(database) as first_request:
        await patient.data(OWN)
    stored = await get_row(database, User, world.a.patient_id)
    assert stored.last_active_at is not None
    assert stored.last_activity_at == stored.last_active_at
    assert sum("last_active_at" in s and s.startswith("UPDATE") for s in first_request) == 1

    with statements_sent(database) as second_request:
        await patient.data(OWN)
    # Within the window: the same stored value, and not one statement more for it.
    assert (await get_row(database, User, world.a.patient_id)).last_active_at == (
        stored.last_active_at
    )
    assert not [s for s in second_request if s.startswith("UPDATE")]
    assert len(second_request) < len(first_request)
    record = await _record(api, world, world.a.patient_id)
    assert record["last_active"] == times.render(stored.last_active_at, UTC)
    assert record["accessed_account"] is True
    assert record["last_sign_in_at"] is None  # used a token, never signed in here


async def test_past_the_window_the_next_request_moves_the_activity(
    settings: Settings, database: Database, world: World
) -> None:
    # A window of 0: every request writes its activity.
    app = create_app(settings.model_copy(update={"activity_window_seconds": 0}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        patient = Api(http).with_token(world.a.patient_token)
        await patient.data(OWN)
        first = (await get_row(database, User, world.a.patient_id)).last_active_at
        await patient.data(OWN)
        second = (await get_row(database, User, world.a.patient_id)).last_active_at
    assert first is not None and second is not None and second > first


async def test_an_api_key_moves_last_activity_but_not_last_active(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    await api.with_key(world.a.provider.api_key).data(OWN)
    provider = await _record(api, world, world.a.provider.user_id)
    assert provider["last_active"] is None  # not through web or mobile
    assert provider["last_activity"] is not None
    assert provider["accessed_account"] is True

    await set_password(database, passwords, world.a.provider.user_id, PROVIDER_PASSWORD)
    await _sign_in(api, "provider.a@example.com", PROVIDER_PASSWORD)
    signed_in = await _record(api, world, world.a.provider.user_id)
    assert signed_in["last_active"] == signed_in["last_sign_in_at"]


async def test_requires_reactivation_follows_archiving(api: Api, world: World) -> None:
    staff = api.with_key(world.a.staff.api_key)
    patient_id = str(world.a.other_patient_id)
    assert (await _record(api, world, world.a.other_patient_id))["requires_reactivation"] is False
    await staff.data(UPDATE_CLIENT_GROUP, {"id": patient_id, "active": False})
    assert (await _record(api, world, world.a.other_patient_id))["requires_reactivation"] is True
    await staff.data(UPDATE_CLIENT_GROUP, {"id": patient_id, "active": True})
    assert (await _record(api, world, world.a.other_patient_id))["requires_reactivation"] is False


async def test_others_activity_is_withheld_as_the_rest_of_their_record(
    api: Api, world: World
) -> None:
    await api.with_key(world.a.provider.api_key).data(OWN)  # the provider has activity
    query = """{ currentUser { last_activity dietitian { id last_activity accessed_account
      requires_reactivation last_sign_in_at } } }"""
    me = (await api.with_token(world.a.patient_token).data(query))["currentUser"]
    assert me["dietitian"] == {
        "id": str(world.a.provider.user_id),
        "last_activity": None,
        "accessed_account": None,
        "requires_reactivation": None,
        "last_sign_in_at": None,
    }
    # Another organization's staff do not reach the record at all.
    other = await api.with_key(world.b.staff.api_key).data(
        ACTIVITY, {"id": str(world.a.patient_id)}
    )
    assert other["user"] is None


async def test_the_patient_list_shows_the_activity_of_each_patient(api: Api, world: World) -> None:
    await _sign_in(api, "patient.a@example.com", PATIENT_PASSWORD)
    query = "{ users(should_paginate: false) { id last_sign_in_at accessed_account last_active } }"
    users = (await api.with_key(world.a.staff.api_key).data(query))["users"]
    by_id = {u["id"]: u for u in users}
    assert by_id[str(world.a.patient_id)]["accessed_account"] is True
    assert by_id[str(world.a.patient_id)]["last_sign_in_at"] is not None
    assert by_id[str(world.a.other_patient_id)] == {
        "id": str(world.a.other_patient_id),
        "last_sign_in_at": None,
        "accessed_account": False,
        "last_active": None,
    }
