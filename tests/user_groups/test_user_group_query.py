"""userGroup and the UserGroup object: the seed's document, users, counts, visibility."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.groups import UPDATE_CLIENT_GROUP, add_patients, create_group
from tests.support.seed_group_documents import GET_USER_GROUP
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db.engine import Database

USERS = """query($id: ID, $active_status: String, $should_sort: Boolean, $convo_id: ID) {
  userGroup(id: $id) {
    users(active_status: $active_status, should_sort: $should_sort, convo_id: $convo_id) {
      id last_name active user_group { id } } } }"""

OWN_GROUP = """query { currentUser { user_group_id user_group {
  id name invite_code users_count user_ids users { id } } } }"""


async def test_seed_document_reads_a_group(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    group_id = await create_group(provider, "Discovery Patients")
    await add_patients(database, passwords, world.a, 7, group_id=group_id)
    group = (await provider.data(GET_USER_GROUP, {"id": group_id}))["userGroup"]
    assert group["id"] == group_id
    assert group["name"] == "Discovery Patients"
    assert group["users_count"] == 7
    assert len(group["invite_code"]) == 8


async def test_another_organizations_group_answers_like_a_missing_one(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for group_id in (str(world.b.group_id), "999999", "abc", "", None):
        assert (await provider.data(GET_USER_GROUP, {"id": group_id}))["userGroup"] is None


async def test_users_count_counts_active_patients_only(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    group_id = await create_group(provider, "Mixed")
    await add_patients(database, passwords, world.a, 3, group_id=group_id)
    await add_patients(database, passwords, world.a, 2, group_id=group_id, tag="gone", active=False)
    group = (await provider.data(GET_USER_GROUP, {"id": group_id}))["userGroup"]
    assert group["users_count"] == 3


async def test_users_lists_the_groups_patients_by_last_name_with_active_status(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    group_id = await create_group(provider, "Listed")
    active = await add_patients(database, passwords, world.a, 3, group_id=group_id)
    archived = await add_patients(
        database, passwords, world.a, 1, group_id=group_id, tag="gone", active=False
    )
    await add_patients(database, passwords, world.a, 2, tag="elsewhere")

    async def ids(**variables: object) -> list[int]:
        data = await provider.data(USERS, {"id": group_id, **variables})
        users = data["userGroup"]["users"]
        assert all(u["user_group"]["id"] == group_id for u in users)
        return [int(u["id"]) for u in users]

    everyone = await ids()
    assert sorted(everyone) == sorted(active + archived)
    by_name = await provider.data(USERS, {"id": group_id})
    last_names = [u["last_name"] for u in by_name["userGroup"]["users"]]
    assert last_names == sorted(last_names)
    assert sorted(await ids(active_status="active")) == active
    assert await ids(active_status="inactive") == archived
    assert await ids(active_status="archived") == archived
    assert await ids(should_sort=False) == sorted(everyone)


async def test_users_with_an_unknown_active_status_is_a_bad_input(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    codes = await provider.error_codes(USERS, {"id": str(world.a.group_id), "active_status": "x"})
    assert codes == ["BAD_USER_INPUT"]


async def test_users_convo_id_keeps_the_conversations_members(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    group_id = await create_group(provider, "Chatty")
    members = await add_patients(database, passwords, world.a, 3, group_id=group_id)
    async with database.write_sessions() as session, session.begin():
        conversation = Conversation(organization_id=world.a.provider.organization_id)
        session.add(conversation)
        await session.flush()
        session.add(ConversationMembership(conversation_id=conversation.id, user_id=members[1]))
        conversation_id = conversation.id
    data = await provider.data(USERS, {"id": group_id, "convo_id": str(conversation_id)})
    assert [int(u["id"]) for u in data["userGroup"]["users"]] == [members[1]]
    data = await provider.data(USERS, {"id": group_id, "convo_id": "999999"})
    assert data["userGroup"]["users"] == []


async def test_patient_reads_their_own_group_and_sees_only_themselves_in_it(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await add_patients(database, passwords, world.a, 3, group_id=world.a.group_id)
    moved = await provider.data(
        UPDATE_CLIENT_GROUP,
        {"id": str(world.a.patient_id), "user_group_id": str(world.a.group_id)},
    )
    assert moved["updateClient"]["messages"] is None
    patient = api.with_token(world.a.patient_token)
    me = (await patient.data(OWN_GROUP))["currentUser"]
    assert me["user_group_id"] == str(world.a.group_id)
    group = me["user_group"]
    assert group["name"] == "Group a"
    assert group["users"] == [{"id": str(world.a.patient_id)}]
    assert group["user_ids"] == [str(world.a.patient_id)]
    assert group["users_count"] == 1
    # The staff view of the same group has everyone.
    staff_view = await provider.data(GET_USER_GROUP, {"id": str(world.a.group_id)})
    assert staff_view["userGroup"]["users_count"] == 4


async def test_group_root_fields_are_for_providers_and_staff(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    variables = {"id": str(world.a.group_id)}
    assert await patient.error_codes(GET_USER_GROUP, variables) == ["FORBIDDEN"]
    assert await api.error_codes(GET_USER_GROUP, variables) == ["UNAUTHENTICATED"]
    staff = api.with_key(world.a.staff.api_key)
    assert (await staff.data(GET_USER_GROUP, variables))["userGroup"]["id"] == variables["id"]
