"""Writes that change patients without naming them in their result: conversations, groups."""

from __future__ import annotations

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from tests.audit.events import brief, stored
from tests.support.api import Api
from tests.support.groups import add_patients, create_group
from tests.support.seed_group_documents import DELETE_USER_GROUP
from tests.support.world import World

# Only the conversation's id; a conversation tells who takes part in it, but the answer's read of
# each patient member is the write's own update event (not recorded twice).
CREATE_CONVERSATION = """mutation($users: String) {
  createConversation(input: {simple_added_users: $users, name: "Care"}) {
    conversation { id } messages { field message } } }"""


async def test_create_conversation_records_each_patient_member(
    api: Api, world: World, database: Database
) -> None:
    members = f"{world.a.patient_id},{world.a.staff.user_id},{world.a.other_patient_id}"
    payload = (await api.with_key(world.a.provider.api_key).data(
        CREATE_CONVERSATION, {"users": members}
    ))["createConversation"]  # fmt: skip
    assert payload["messages"] is None
    events = await stored(database)
    # The provider and the staff member are members too, but not patient records.
    assert sorted(brief(events)) == [
        ("createConversation", "update", world.a.patient_id, True),
        ("createConversation", "update", world.a.other_patient_id, True),
    ]
    assert {e.actor_user_id for e in events} == {world.a.provider.user_id}


async def test_a_patient_starting_a_conversation_is_recorded(
    api: Api, world: World, database: Database
) -> None:
    patient = api.with_token(world.a.patient_token)
    payload = (await patient.data(CREATE_CONVERSATION, {"users": str(world.a.provider.user_id)}))[
        "createConversation"
    ]
    assert payload["messages"] is None
    assert sorted(brief(await stored(database))) == [
        ("createConversation", "update", world.a.patient_id, True),
    ]


async def test_refused_conversation_records_the_attempt_only(
    api: Api, world: World, database: Database
) -> None:
    caller = api.with_key(world.a.provider.api_key)
    members = f"{world.a.patient_id},{world.b.patient_id}"
    payload = (await caller.data(CREATE_CONVERSATION, {"users": members}))["createConversation"]
    assert payload["messages"][0]["field"] == "simple_added_users"
    assert sorted(brief(await stored(database))) == [
        ("createConversation", "update", world.a.patient_id, False),
        ("createConversation", "update", world.b.patient_id, False),
    ]


async def test_delete_user_group_records_every_patient_moved(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    staff = api.with_key(world.a.staff.api_key)
    doomed = await create_group(staff, "Doomed")
    moved = await add_patients(database, passwords, world.a, 2, group_id=doomed)
    archived = await add_patients(
        database, passwords, world.a, 1, group_id=doomed, tag="gone", active=False
    )
    before = len(await stored(database))
    payload = (await staff.data(DELETE_USER_GROUP, {"id": doomed}))["deleteUserGroup"]
    assert payload["messages"] is None
    events = (await stored(database))[before:]
    assert sorted(brief(events)) == [
        ("deleteUserGroup", "update", patient_id, True) for patient_id in sorted(moved + archived)
    ]
    assert {e.actor_user_id for e in events} == {world.a.staff.user_id}


async def test_deleting_an_empty_or_foreign_group_records_nothing(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.staff.api_key)
    empty = await create_group(staff, "Empty")
    before = len(await stored(database))
    assert (await staff.data(DELETE_USER_GROUP, {"id": empty}))["deleteUserGroup"][
        "messages"
    ] is None
    foreign = (await staff.data(DELETE_USER_GROUP, {"id": str(world.b.group_id)}))[
        "deleteUserGroup"
    ]
    assert foreign["messages"]
    assert len(await stored(database)) == before
