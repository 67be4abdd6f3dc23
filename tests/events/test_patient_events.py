"""patient.created and patient.updated: fired by the mutations that create and change patients,
in the write's transaction, with the changed fields' names and the patient's organization."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from tests.support.api import Api
from tests.support.db import statements_sent
from tests.support.events import Seen, events_after, last_event_id
from tests.support.seed_documents import CREATE_CLIENT, SIGN_UP
from tests.support.world import World

from carebook.db.engine import Database
from carebook.events.models import Event
from carebook.events.payload import body_bytes

UPDATE_CLIENT = """mutation($input: updateClientInput) { updateClient(input: $input) {
  user { id } messages { field message } } }"""

UPDATE_USER = """mutation($input: updateUserInput) { updateUser(input: $input) {
  user { id } messages { field message } } }"""

BULK = """mutation($input: bulkUpdateClientsInput) { bulkUpdateClients(input: $input) {
  users { id } messages { field message } } }"""

UPDATE_EMAIL = """mutation($input: UpdateUserEmailInput!) { updateUserEmail(input: $input) {
  success_string messages { field message } } }"""


def _updated(patient_id: int, organization_id: int, *fields: str) -> Seen:
    return Seen("patient.updated", "User", patient_id, sorted(fields), organization_id, {})


async def _call(api: Api, document: str, payload: str, **input_: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await api.data(document, {"input": input_}))[payload]
    return result


async def test_create_client_fires_patient_created_in_the_patients_organization(
    api: Api, world: World, database: Database
) -> None:
    start = await last_event_id(database)
    data = await api.with_key(world.b.provider.api_key).data(
        CREATE_CLIENT, {"first_name": "Ada", "last_name": "Byron", "email": "ada@example.com"}
    )
    patient_id = int(data["createClient"]["user"]["id"])
    assert await events_after(database, start) == [
        Seen("patient.created", "User", patient_id, [], world.b.provider.organization_id, {})
    ]


async def test_a_refused_create_client_fires_nothing(
    api: Api, world: World, database: Database
) -> None:
    start = await last_event_id(database)
    data = await api.with_key(world.a.provider.api_key).data(
        CREATE_CLIENT, {"first_name": "", "last_name": "Byron", "email": "ada@example.com"}
    )
    assert data["createClient"]["messages"]
    assert await events_after(database, start) == []


async def test_sign_up_fires_patient_created(api: Api, world: World, database: Database) -> None:
    start = await last_event_id(database)
    data = await api.data(
        SIGN_UP,
        {
            "first_name": "Sam",
            "last_name": "Signup",
            "email": "sam.signup@example.com",
            "password": "a long enough passphrase 42",
            "role": "patient",
            "dietitian_id": str(world.a.provider.user_id),
        },
    )
    user = data["signUp"]["user"]
    assert user is not None, data
    events = await events_after(database, start)
    assert [(e.event_type, e.resource_id) for e in events] == [("patient.created", int(user["id"]))]
    assert events[0].organization_id == world.a.provider.organization_id


async def test_update_client_lists_every_field_it_changed(
    api: Api, world: World, database: Database
) -> None:
    start = await last_event_id(database)
    payload = await _call(
        api.with_key(world.a.provider.api_key),
        UPDATE_CLIENT,
        "updateClient",
        id=str(world.a.patient_id),
        first_name="Jonas",
        dob="1950-02-03",
        phone_number="555-444-2244",
        user_group_id=str(world.a.group_id),
        metadata='{"mrn": "1"}',
    )
    assert payload["messages"] is None
    assert await events_after(database, start) == [
        _updated(
            world.a.patient_id,
            world.a.provider.organization_id,
            "first_name",
            "dob",
            "phone_number",
            "user_group_id",
            "metadata",
        )
    ]


async def test_an_update_that_changes_nothing_fires_nothing(
    api: Api, world: World, database: Database
) -> None:
    start = await last_event_id(database)
    payload = await _call(
        api.with_key(world.a.provider.api_key),
        UPDATE_CLIENT,
        "updateClient",
        id=str(world.a.patient_id),
        first_name="Pat",  # the name the patient already has
    )
    assert payload["messages"] is None
    assert await events_after(database, start) == []


async def test_a_refused_update_fires_nothing(api: Api, world: World, database: Database) -> None:
    start = await last_event_id(database)
    payload = await _call(
        api.with_key(world.a.provider.api_key),
        UPDATE_CLIENT,
        "updateClient",
        id=str(world.a.patient_id),
        first_name="Jonas",
        dob="not a date",
    )
    assert payload["messages"]
    assert await events_after(database, start) == []


async def test_archiving_and_reactivating_list_active(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    start = await last_event_id(database)
    for active in (False, True):
        await _call(
            provider, UPDATE_CLIENT, "updateClient", id=str(world.a.patient_id), active=active
        )
    organization_id = world.a.provider.organization_id
    assert await events_after(database, start) == [
        _updated(world.a.patient_id, organization_id, "active"),
        _updated(world.a.patient_id, organization_id, "active"),
    ]


async def test_care_team_and_primary_provider_changes_are_named(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    start = await last_event_id(database)
    await _call(
        provider,
        UPDATE_CLIENT,
        "updateClient",
        id=str(world.a.patient_id),
        other_provider_ids=[str(world.a.staff.user_id)],
    )
    # The same team again changes nothing.
    await _call(
        provider,
        UPDATE_CLIENT,
        "updateClient",
        id=str(world.a.patient_id),
        other_provider_ids=[str(world.a.staff.user_id)],
    )
    await _call(
        provider,
        UPDATE_CLIENT,
        "updateClient",
        id=str(world.a.patient_id),
        dietitian_id=str(world.a.staff.user_id),
    )
    organization_id = world.a.provider.organization_id
    assert await events_after(database, start) == [
        _updated(world.a.patient_id, organization_id, "other_provider_ids"),
        _updated(world.a.patient_id, organization_id, "dietitian_id"),
    ]


async def test_update_user_by_the_patient_themself(
    api: Api, world: World, database: Database
) -> None:
    start = await last_event_id(database)
    payload = await _call(
        api.with_token(world.a.patient_token),
        UPDATE_USER,
        "updateUser",
        first_name="Patty",
        last_name="Changed",
    )
    assert payload["messages"] is None
    assert await events_after(database, start) == [
        _updated(world.a.patient_id, world.a.provider.organization_id, "first_name", "last_name")
    ]


async def test_a_provider_updating_themself_fires_nothing(
    api: Api, world: World, database: Database
) -> None:
    start = await last_event_id(database)
    payload = await _call(
        api.with_key(world.a.provider.api_key), UPDATE_USER, "updateUser", first_name="Doc"
    )
    assert payload["messages"] is None
    assert await events_after(database, start) == []


async def test_update_user_email_names_email(api: Api, world: World, database: Database) -> None:
    start = await last_event_id(database)
    payload = await _call(
        api.with_key(world.a.provider.api_key),
        UPDATE_EMAIL,
        "updateUserEmail",
        user_id=str(world.a.other_patient_id),
        current_email="other.a@example.com",
        new_email="moved.a@example.com",
    )
    assert payload["messages"] is None
    assert await events_after(database, start) == [
        _updated(world.a.other_patient_id, world.a.provider.organization_id, "email")
    ]


async def test_bulk_update_fires_one_event_per_changed_patient(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    ids = [world.a.patient_id, world.a.other_patient_id]
    # The first patient is in the group already: only the second one changes.
    await _call(
        provider,
        UPDATE_CLIENT,
        "updateClient",
        id=str(world.a.patient_id),
        user_group_id=str(world.a.group_id),
    )
    start = await last_event_id(database)
    payload = await _call(
        provider,
        BULK,
        "bulkUpdateClients",
        ids=[str(i) for i in ids],
        user_group_id=str(world.a.group_id),
    )
    assert payload["messages"] is None
    await _call(provider, BULK, "bulkUpdateClients", ids=[str(i) for i in ids], active_status=False)
    await _call(
        provider,
        BULK,
        "bulkUpdateClients",
        ids=[str(world.a.other_patient_id)],
        other_provider_ids=str(world.a.staff.user_id),
    )
    organization_id = world.a.provider.organization_id
    assert await events_after(database, start) == [
        _updated(world.a.other_patient_id, organization_id, "user_group_id"),
        _updated(world.a.patient_id, organization_id, "active"),
        _updated(world.a.other_patient_id, organization_id, "active"),
        _updated(world.a.other_patient_id, organization_id, "other_provider_ids"),
    ]


async def test_organization_b_writes_give_b(api: Api, world: World, database: Database) -> None:
    start = await last_event_id(database)
    await _call(
        api.with_key(world.b.staff.api_key),
        UPDATE_CLIENT,
        "updateClient",
        id=str(world.b.patient_id),
        last_name="Bee",
    )
    assert await events_after(database, start) == [
        _updated(world.b.patient_id, world.b.provider.organization_id, "last_name")
    ]


async def test_sign_up_with_a_patients_email_creates_and_fires_nothing(
    api: Api, world: World, database: Database
) -> None:
    start = await last_event_id(database)
    data = await api.data(
        SIGN_UP,
        {
            "first_name": "Second",
            "last_name": "Try",
            "email": "patient.a@example.com",  # world.a.patient's
            "password": "a long enough passphrase 42",
            "role": "patient",
            "dietitian_id": str(world.a.provider.user_id),
        },
    )
    assert data["signUp"]["user"] is None
    assert await events_after(database, start) == []


async def test_a_provider_signing_up_is_no_patient_event(api: Api, database: Database) -> None:
    start = await last_event_id(database)
    data = await api.data(
        SIGN_UP,
        {
            "first_name": "New",
            "last_name": "Practice",
            "email": "new.practice@example.com",
            "password": "a long enough passphrase 42",
            "role": "provider",
        },
    )
    assert data["signUp"]["user"] is not None, data
    assert await events_after(database, start) == []


async def test_the_webhook_body_of_an_update_is_the_thin_payload(
    api: Api, world: World, database: Database
) -> None:
    start = await last_event_id(database)
    await _call(
        api.with_key(world.a.provider.api_key),
        UPDATE_CLIENT,
        "updateClient",
        id=str(world.a.patient_id),
        first_name="Jonas",
        dob="1950-02-03",
    )
    async with database.read_sessions() as session:
        event = (await session.execute(select(Event).where(Event.id > start))).scalar_one()
    assert json.loads(body_bytes(event)) == {
        "resource_id": world.a.patient_id,
        "resource_id_type": "User",
        "event_type": "patient.updated",
        "changed_fields": ["dob", "first_name"],
    }


async def test_emitting_costs_an_update_one_insert_and_no_query(
    api: Api, world: World, database: Database
) -> None:
    """changed_fields come from what the service holds: the only statement about events is
    the INSERT at commit (a bulk update of several patients sends one, too)."""
    provider = api.with_key(world.a.provider.api_key)
    with statements_sent(database) as sent:
        await _call(
            provider, UPDATE_CLIENT, "updateClient", id=str(world.a.patient_id), last_name="New"
        )
        await _call(
            provider,
            BULK,
            "bulkUpdateClients",
            ids=[str(world.a.patient_id), str(world.a.other_patient_id)],
            active_status=False,
        )
    about_events = [s.split()[0].upper() for s in sent if " events" in s.lower()]
    assert about_events == ["INSERT", "INSERT"]


async def test_a_retried_request_with_its_idempotency_key_fires_once(
    api: Api, world: World, database: Database
) -> None:
    """A retry is answered from the first response: the patient, and its event, exist once."""
    headers = {
        **api.with_key(world.a.provider.api_key).headers,
        "Idempotency-Key": "create-ada-once",
    }
    body = {
        "query": CREATE_CLIENT,
        "variables": {"first_name": "Ada", "last_name": "Once", "email": "ada.once@example.com"},
    }
    start = await last_event_id(database)
    answers = [
        (await api.client.post("/graphql", json=body, headers=headers)).json() for _ in range(2)
    ]
    assert answers[0] == answers[1]
    patient_id = int(answers[0]["data"]["createClient"]["user"]["id"])
    events = await events_after(database, start)
    assert [(e.event_type, e.resource_id) for e in events] == [("patient.created", patient_id)]
