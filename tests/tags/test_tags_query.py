"""The tags query, the Tag object's fields, and the patient-list filter by tag."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tests.support.api import Api
from tests.support.seed_tag_location_documents import APPLY_TAGS, CREATE_TAG, TAGS
from tests.support.world import World

from carebook import builders
from carebook.db.engine import Database
from carebook.tags.queries import tagged_with_any
from carebook.users.models import User
from carebook.users.scoping import visible_patients

LIST = """query($order_by: TagOrderKeys, $sort_by: String, $ids: [ID], $user_id: String,
  $applied_to_providers: Boolean) {
  tags(order_by: $order_by, sort_by: $sort_by, ids: $ids, user_id: $user_id,
       applied_to_providers: $applied_to_providers) { name } }"""

TAG_FIELDS = """query { tags { id name created_at updated_at added_by user { id email }
  active_users_count archived_users_count org_members_count
  tagged_users { id first_name } } }"""

ARCHIVE = """mutation($id: ID) { updateClient(input: {id: $id, active: false}) {
  messages { message } } }"""


async def _tag(api: Api, name: str, *user_ids: int) -> str:
    data = await api.data(CREATE_TAG, {"name": name})
    assert data["createTag"]["messages"] is None
    tag_id: str = data["createTag"]["tag"]["id"]
    if user_ids:
        for user_id in user_ids:
            data = await api.data(APPLY_TAGS, {"ids": [tag_id], "taggable_user_id": str(user_id)})
            assert data["bulkApply"]["messages"] is None
    return tag_id


async def _names(api: Api, **variables: Any) -> list[str]:
    data = await api.data(LIST, variables)
    return [tag["name"] for tag in data["tags"]]


async def test_seed_document_lists_the_whole_organizations_tags(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    staff = api.with_key(world.a.staff.api_key)
    mine = await _tag(provider, "Zebra")
    theirs = await _tag(staff, "apple")
    await _tag(api.with_key(world.b.provider.api_key), "Other practice")
    expected = [{"id": theirs, "name": "apple"}, {"id": mine, "name": "Zebra"}]
    assert (await provider.data(TAGS))["tags"] == expected
    assert (await staff.data(TAGS))["tags"] == expected
    assert [t["name"] for t in (await api.with_key(world.b.staff.api_key).data(TAGS))["tags"]] == [
        "Other practice"
    ]


async def test_a_patient_sees_only_the_tags_applied_to_them(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await _tag(provider, "Mine", world.a.patient_id)
    await _tag(provider, "Someone else's", world.a.other_patient_id)
    await _tag(provider, "Unused")
    patient = api.with_token(world.a.patient_token)
    assert [t["name"] for t in (await patient.data(TAGS))["tags"]] == ["Mine"]
    data = await patient.data(TAG_FIELDS)
    tag = data["tags"][0]
    assert tag["tagged_users"] == [{"id": str(world.a.patient_id), "first_name": "Pat"}]
    assert tag["active_users_count"] is None  # counts are the practice's business
    own = await patient.data(
        "query { currentUser { active_tags { name } } }",
    )
    assert own["currentUser"]["active_tags"] == [{"name": "Mine"}]


async def test_tag_fields(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await _tag(
        provider, "Tag A", world.a.patient_id, world.a.other_patient_id, world.a.staff.user_id
    )
    await provider.data(ARCHIVE, {"id": str(world.a.other_patient_id)})
    tag = (await provider.data(TAG_FIELDS))["tags"][0]
    assert tag["name"] == "Tag A"
    assert tag["created_at"] and tag["updated_at"]
    assert tag["user"] == {"id": str(world.a.provider.user_id), "email": "provider.a@example.com"}
    assert tag["added_by"] == "Prov A"
    assert (tag["active_users_count"], tag["archived_users_count"], tag["org_members_count"]) == (
        1,
        1,
        1,
    )
    # By last name: "IentA" (both patients, Other before Pat), then the staff member "A".
    assert [u["first_name"] for u in tag["tagged_users"]] == ["Staff", "Other", "Pat"]


async def test_tagged_users_can_be_paginated(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    tag_id = await _tag(provider, "Big")
    for index in range(12):
        data = await provider.data(
            'mutation($f: String) { createClient(input: {first_name: $f, last_name: "Zed", '
            "skipped_email: true, dont_send_welcome: true}) { user { id } } }",
            {"f": f"P{index:02d}"},
        )
        user_id = data["createClient"]["user"]["id"]
        await provider.data(APPLY_TAGS, {"ids": [tag_id], "taggable_user_id": user_id})
    query = """query($o: Int, $p: Boolean) { tags { tagged_users(offset: $o, should_paginate: $p)
      { first_name } } }"""
    everyone = (await provider.data(query, {}))["tags"][0]["tagged_users"]
    assert len(everyone) == 12
    page = (await provider.data(query, {"o": 10, "p": True}))["tags"][0]["tagged_users"]
    assert [u["first_name"] for u in page] == ["P10", "P11"]
    page = (await provider.data(query, {"p": True}))["tags"][0]["tagged_users"]
    assert len(page) == 10


async def test_order_by_and_sort_by(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    staff = api.with_key(world.a.staff.api_key)  # "Staff" adds before "Prov" by first name
    await _tag(provider, "b-two", world.a.patient_id, world.a.other_patient_id)
    await _tag(staff, "a-one", world.a.patient_id, world.a.staff.user_id, world.a.provider.user_id)
    await _tag(provider, "c-none")
    assert await _names(provider) == ["a-one", "b-two", "c-none"]
    assert await _names(provider, order_by="NAME_DESC") == ["c-none", "b-two", "a-one"]
    assert await _names(provider, order_by="ACTIVE_USERS_DESC") == ["b-two", "a-one", "c-none"]
    assert await _names(provider, order_by="ACTIVE_USERS_ASC") == ["c-none", "a-one", "b-two"]
    assert await _names(provider, order_by="ORG_MEMBERS_DESC") == ["a-one", "b-two", "c-none"]
    assert await _names(provider, order_by="ORG_MEMBERS_ASC") == ["b-two", "c-none", "a-one"]
    assert await _names(provider, order_by="ADDED_BY_ASC") == ["b-two", "c-none", "a-one"]
    assert await _names(provider, order_by="ADDED_BY_DESC") == ["a-one", "b-two", "c-none"]
    assert await _names(provider, sort_by="name_desc") == ["c-none", "b-two", "a-one"]
    assert await _names(provider, sort_by="active_users_desc") == ["b-two", "a-one", "c-none"]
    # order_by takes precedence over sort_by.
    assert await _names(provider, order_by="NAME_ASC", sort_by="name_desc") == [
        "a-one",
        "b-two",
        "c-none",
    ]
    body = await provider.post(LIST, {"sort_by": "shoe_size"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_filters_ids_user_id_and_applied_to_providers(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    one = await _tag(provider, "one", world.a.patient_id)
    await _tag(provider, "two", world.a.patient_id, world.a.staff.user_id)
    three = await _tag(provider, "three")
    b_tag = await _tag(api.with_key(world.b.provider.api_key), "bee", world.b.patient_id)
    assert await _names(provider, ids=[one, three, b_tag, "424242"]) == ["one", "three"]
    assert await _names(provider, user_id=str(world.a.patient_id)) == ["one", "two"]
    assert await _names(provider, user_id=str(world.a.other_patient_id)) == []
    assert await _names(provider, user_id=str(world.b.patient_id)) == []
    assert await _names(provider, applied_to_providers=True) == ["two"]
    body = await provider.post(LIST, {"ids": ["nope"]})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_another_organizations_users_tags_are_unreachable(api: Api, world: World) -> None:
    await _tag(api.with_key(world.b.provider.api_key), "Secret", world.b.patient_id)
    a = api.with_key(world.a.provider.api_key)
    data = await a.data(
        "query($id: ID) { user(id: $id) { active_tags { name } } }", {"id": str(world.b.patient_id)}
    )
    assert data["user"] is None
    assert (await a.data(TAGS))["tags"] == []


async def test_tagged_with_any_filters_patients_within_the_organization(
    api: Api, world: World, database: Database
) -> None:
    """The filter behind ``users(tag_ids:)``: at least ONE of the tags, never across orgs."""
    provider = api.with_key(world.a.provider.api_key)
    diabetes = int(await _tag(provider, "Diabetes", world.a.patient_id))
    vip = int(await _tag(provider, "VIP", world.a.patient_id, world.a.other_patient_id))
    unused = int(await _tag(provider, "Unused"))
    b_tag = int(await _tag(api.with_key(world.b.provider.api_key), "B", world.b.patient_id))
    actor = builders.actor_of(world.a.provider)

    async def matching(tag_ids: list[int], organization_id: int | None = None) -> set[int]:
        org = actor.organization_id if organization_id is None else organization_id
        query = visible_patients(actor).where(tagged_with_any(org, tag_ids))
        async with database.read_sessions() as session:
            return set((await session.execute(query.with_only_columns(User.id))).scalars())

    both = {world.a.patient_id, world.a.other_patient_id}
    assert await matching([diabetes]) == {world.a.patient_id}
    assert await matching([diabetes, vip]) == both
    assert await matching([vip]) == both
    assert await matching([unused]) == set()
    assert await matching([b_tag]) == set()  # another organization's tag matches nobody
    assert await matching([b_tag], world.b.provider.organization_id) == set()  # still A's scope
    assert await matching([]) == set()
    # The clause on its own (without the scope) also never crosses organizations.
    async with database.read_sessions() as session:
        rows = await session.execute(
            select(User.id).where(tagged_with_any(world.a.provider.organization_id, [b_tag]))
        )
        assert list(rows.scalars()) == []
