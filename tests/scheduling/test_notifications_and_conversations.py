"""In-app notifications, user(clear_notifs:), and conversations behind users(conversation_id:)."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.scheduling import checkout, create_type, future
from tests.support.world import PATIENT_PASSWORD, World

from carebook.db.engine import Database

NOTIFICATIONS = """query($seen: Boolean) { notifications(seen_status: $seen) {
  id notification_type seen other_party_id other_party { id } appointment { id } } }"""
UPDATE_SELF = (
    'mutation { updateUser(input: {first_name: "Patty"}) { user { id } messages { field } } }'
)
USER = "query($id: ID, $clear: Boolean) { user(id: $id, clear_notifs: $clear) { id } }"
CREATE_CONVERSATION = """mutation($users: String, $name: String) {
  createConversation(input: {simple_added_users: $users, name: $name}) {
    conversation { id name users { id } } messages { field message } } }"""
CONVO_USERS = """query($cid: ID) { usersCount(conversation_id: $cid)
  users(conversation_id: $cid) { id } }"""


async def test_a_patient_changing_their_profile_notifies_their_provider(
    api: Api, world: World
) -> None:
    assert PATIENT_PASSWORD
    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(UPDATE_SELF))["updateUser"]["messages"] is None
    provider = api.with_key(world.a.provider.api_key)
    notes = (await provider.data(NOTIFICATIONS))["notifications"]
    assert [(n["notification_type"], n["seen"], n["other_party_id"]) for n in notes] == [
        ("profile_updated", False, str(world.a.patient_id))
    ]
    # Another organization's provider, and staff editing the patient, notify nobody else.
    assert (await api.with_key(world.b.provider.api_key).data(NOTIFICATIONS))["notifications"] == []


async def test_user_clear_notifs_marks_that_patients_notifications_seen(
    api: Api, world: World
) -> None:
    await api.with_token(world.a.patient_token).data(UPDATE_SELF)
    provider = api.with_key(world.a.provider.api_key)
    await provider.data(USER, {"id": str(world.a.patient_id), "clear": False})
    assert (await provider.data(NOTIFICATIONS, {"seen": False}))["notifications"] != []
    await provider.data(USER, {"id": str(world.a.other_patient_id)})  # another patient
    assert len((await provider.data(NOTIFICATIONS, {"seen": False}))["notifications"]) == 1
    await provider.data(USER, {"id": str(world.a.patient_id)})  # clear_notifs defaults to true
    assert (await provider.data(NOTIFICATIONS, {"seen": False}))["notifications"] == []
    seen = (await provider.data(NOTIFICATIONS, {"seen": True}))["notifications"]
    assert [n["seen"] for n in seen] == [True]


async def test_checkout_notifies_the_provider(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    type_id = await create_type(provider)
    payload = await checkout(
        api,
        appointment_type_id=type_id,
        provider_id=str(world.a.provider.user_id),
        date=future(days=2).isoformat(),
        email="new.booker@example.com",
        first_name="New",
        last_name="Booker",
    )
    notes = (await provider.data(NOTIFICATIONS))["notifications"]
    assert [(n["notification_type"], n["appointment"]["id"]) for n in notes] == [
        ("appointment_booked", payload["appointment"]["id"])
    ]


async def test_conversations_list_their_patients(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    members = f"{world.a.patient_id},{world.a.staff.user_id}"
    payload = (await provider.data(CREATE_CONVERSATION, {"users": members, "name": "Care"}))[
        "createConversation"
    ]
    assert payload["messages"] is None
    ids = {u["id"] for u in payload["conversation"]["users"]}
    assert ids == {
        str(world.a.provider.user_id),
        str(world.a.patient_id),
        str(world.a.staff.user_id),
    }
    listed = await provider.data(CONVO_USERS, {"cid": payload["conversation"]["id"]})
    assert listed == {"usersCount": 1, "users": [{"id": str(world.a.patient_id)}]}
    # Users of another organization cannot be added; its provider sees no such conversation.
    bad = (await provider.data(CREATE_CONVERSATION, {"users": str(world.b.patient_id)}))[
        "createConversation"
    ]
    assert bad["messages"][0]["field"] == "simple_added_users"
    other = api.with_key(world.b.provider.api_key)
    assert (await other.data(CONVO_USERS, {"cid": payload["conversation"]["id"]}))["users"] == []


async def test_a_patient_may_not_add_another_patient(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    refused = (await patient.data(CREATE_CONVERSATION, {"users": str(world.a.other_patient_id)}))[
        "createConversation"
    ]
    assert refused["messages"][0]["field"] == "simple_added_users"
    ok = (await patient.data(CREATE_CONVERSATION, {"users": str(world.a.provider.user_id)}))[
        "createConversation"
    ]
    assert ok["messages"] is None
