"""createTag, updateTag, deleteTag: the seed's documents, names unique per owner, no crossing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from tests.support.api import Api
from tests.support.db import count
from tests.support.seed_tag_location_documents import CREATE_TAG, DELETE_TAG, TAGS, UPDATE_TAG
from tests.support.world import World

from carebook.db.engine import Database
from carebook.tags.models import Tag, Tagging
from carebook.users.models import User

USER_TAGS = "query($id: ID) { user(id: $id) { id active_tags { id name } } }"


async def _create(api: Api, name: str, taggable_user_id: int | None = None) -> dict[str, Any]:
    variables: dict[str, Any] = {"name": name}
    if taggable_user_id is not None:
        variables["taggable_user_id"] = str(taggable_user_id)
    payload: dict[str, Any] = (await api.data(CREATE_TAG, variables))["createTag"]
    return payload


async def _tag_id(api: Api, name: str, taggable_user_id: int | None = None) -> str:
    payload = await _create(api, name, taggable_user_id)
    assert payload["messages"] is None, payload
    tag_id: str = payload["tag"]["id"]
    return tag_id


async def test_seed_document_creates_a_tag_and_applies_it(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    payload = await _create(provider, "Tag A", world.a.patient_id)
    assert payload["messages"] is None
    assert payload["tag"]["name"] == "Tag A"
    assert payload["tag"]["tagged_users"] == [{"id": str(world.a.patient_id)}]
    data = await provider.data(USER_TAGS, {"id": str(world.a.patient_id)})
    assert data["user"]["active_tags"] == [{"id": payload["tag"]["id"], "name": "Tag A"}]


async def test_a_tag_can_be_created_without_applying_it(api: Api, world: World) -> None:
    payload = await _create(api.with_key(world.a.staff.api_key), "  Needs follow-up  ")
    assert payload["messages"] is None
    assert payload["tag"]["name"] == "Needs follow-up"
    assert payload["tag"]["tagged_users"] == []


async def test_duplicate_name_of_the_same_owner_is_a_message_not_a_second_tag(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await _tag_id(provider, "VIP")
    before = await count(database, Tag)
    for duplicate in ("VIP", "vip", " Vip ", "V I P".replace(" ", "")):
        payload = await _create(provider, duplicate, world.a.patient_id)
        assert payload["tag"] is None
        assert payload["messages"] == [{"field": "name", "message": "Name has already been taken"}]
    assert await count(database, Tag) == before
    assert await count(database, Tagging) == 0  # the failed create applied nothing either


async def test_names_compare_by_unicode_case_folding(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await _tag_id(provider, "Straße")
    payload = await _create(provider, "STRASSE")
    assert payload["messages"] == [{"field": "name", "message": "Name has already been taken"}]
    # Folding may lengthen a name; the longest name still fits.
    await _tag_id(provider, "ß" * 100)


async def test_names_are_unique_per_owner_not_per_organization(api: Api, world: World) -> None:
    provider_tag = await _tag_id(api.with_key(world.a.provider.api_key), "VIP")
    staff_tag = await _tag_id(api.with_key(world.a.staff.api_key), "VIP")
    other_org_tag = await _tag_id(api.with_key(world.b.provider.api_key), "VIP")
    assert len({provider_tag, staff_tag, other_org_tag}) == 3


async def test_name_is_required_and_bounded(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for name, message in [
        ("", "Name can't be blank"),
        ("   ", "Name can't be blank"),
        ("x" * 101, "Name is too long (at most 100 characters)"),
    ]:
        payload = await _create(provider, name)
        assert payload == {"tag": None, "messages": [{"field": "name", "message": message}]}
    data = await provider.data(CREATE_TAG, {})
    assert data["createTag"]["messages"] == [{"field": "name", "message": "Name can't be blank"}]
    assert await count(database, Tag) == 0


async def test_taggable_user_must_be_visible(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for user_id in (world.b.patient_id, 424242, "abc", "99999999999"):
        data = await provider.data(CREATE_TAG, {"name": "Risky", "taggable_user_id": user_id})
        payload = data["createTag"]
        assert payload["tag"] is None
        assert [m["field"] for m in payload["messages"]] == ["taggable_user_id"], user_id
    assert await count(database, Tag) == 0


async def test_all_problems_are_reported_together(api: Api, world: World) -> None:
    data = await api.with_key(world.a.provider.api_key).data(
        CREATE_TAG, {"name": "", "taggable_user_id": str(world.b.patient_id)}
    )
    assert data["createTag"]["messages"] == [
        {"field": "name", "message": "Name can't be blank"},
        {"field": "taggable_user_id", "message": "User not found"},
    ]


async def test_a_tag_can_be_applied_to_an_organization_member(api: Api, world: World) -> None:
    payload = await _create(
        api.with_key(world.a.provider.api_key), "Billing", world.a.staff.user_id
    )
    assert payload["tag"]["tagged_users"] == [{"id": str(world.a.staff.user_id)}]


async def test_seed_document_renames_a_tag(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    tag_id = await _tag_id(provider, "Tag A", world.a.patient_id)
    data = await provider.data(UPDATE_TAG, {"id": tag_id, "name": "Tag B"})
    assert data["updateTag"] == {"tag": {"id": tag_id, "name": "Tag B"}, "messages": None}
    # Staff of the same organization may rename it too; the tag keeps its owner.
    data = await api.with_key(world.a.staff.api_key).data(UPDATE_TAG, {"id": tag_id, "name": "C"})
    assert data["updateTag"]["messages"] is None
    async with database.read_sessions() as session:
        row = await session.get_one(Tag, int(tag_id))
    assert (row.name, row.name_key, row.user_id) == ("C", "c", world.a.provider.user_id)
    assert await count(database, Tagging) == 1


async def test_rename_keeps_names_unique_for_the_owner(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    first = await _tag_id(provider, "First")
    await _tag_id(provider, "Second")
    data = await provider.data(UPDATE_TAG, {"id": first, "name": "SECOND"})
    assert data["updateTag"] == {
        "tag": None,
        "messages": [{"field": "name", "message": "Name has already been taken"}],
    }
    # Changing only the case of its own name is allowed.
    data = await provider.data(UPDATE_TAG, {"id": first, "name": "FIRST"})
    assert data["updateTag"] == {"tag": {"id": first, "name": "FIRST"}, "messages": None}


async def test_update_needs_an_id_and_a_name(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    tag_id = await _tag_id(provider, "Tag A")
    cases = [
        ({"name": "X"}, {"field": "id", "message": "Id can't be blank"}),
        ({"id": tag_id}, {"field": "name", "message": "Name can't be blank"}),
        ({"id": tag_id, "name": " "}, {"field": "name", "message": "Name can't be blank"}),
        ({"id": "abc", "name": "X"}, {"field": "id", "message": "'abc' is not a valid id"}),
    ]
    for variables, message in cases:
        data = await provider.data(UPDATE_TAG, variables)
        assert data["updateTag"] == {"tag": None, "messages": [message]}, variables


async def test_seed_document_deletes_a_tag_from_everyone_and_deletes_no_user(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    tag_id = await _tag_id(provider, "Tag A", world.a.patient_id)
    kept = await _tag_id(provider, "Kept", world.a.patient_id)
    await provider.data(
        "mutation($ids: [ID], $u: ID) { bulkApply(input: {ids: $ids, taggable_user_id: $u}) "
        "{ messages { message } } }",
        {"ids": [tag_id], "u": str(world.a.other_patient_id)},
    )
    users_before = await count(database, User)
    data = await provider.data(DELETE_TAG, {"id": tag_id})
    assert data["deleteTag"] == {"tag": {"id": tag_id, "name": "Tag A"}, "messages": None}
    assert await count(database, User) == users_before
    async with database.read_sessions() as session:
        taggings = (await session.execute(select(Tagging.tag_id, Tagging.user_id))).all()
    assert taggings == [(int(kept), world.a.patient_id)]
    for patient_id in (world.a.patient_id, world.a.other_patient_id):
        data = await provider.data(USER_TAGS, {"id": str(patient_id)})
        assert data["user"]["id"] == str(patient_id)
        assert [t["name"] for t in data["user"]["active_tags"]] == (
            ["Kept"] if patient_id == world.a.patient_id else []
        )
    assert (await provider.data(TAGS))["tags"] == [{"id": kept, "name": "Kept"}]
    # Deleting it again: it no longer exists.
    data = await provider.data(DELETE_TAG, {"id": tag_id})
    assert data["deleteTag"] == {
        "tag": None,
        "messages": [{"field": "id", "message": "Tag not found"}],
    }


async def test_another_organizations_tag_answers_as_not_found(
    api: Api, world: World, database: Database
) -> None:
    b_tag = await _tag_id(api.with_key(world.b.provider.api_key), "B only", world.b.patient_id)
    a = api.with_key(world.a.provider.api_key)
    not_found = [{"field": "id", "message": "Tag not found"}]
    data = await a.data(UPDATE_TAG, {"id": b_tag, "name": "Mine now"})
    assert data["updateTag"] == {"tag": None, "messages": not_found}
    data = await a.data(DELETE_TAG, {"id": b_tag})
    assert data["deleteTag"] == {"tag": None, "messages": not_found}
    data = await a.data(DELETE_TAG, {"id": "424242"})
    assert data["deleteTag"] == {"tag": None, "messages": not_found}
    # Beyond the id column's range: a message on the field, never a database error.
    data = await a.data(DELETE_TAG, {"id": "99999999999"})
    assert data["deleteTag"]["tag"] is None
    assert [m["field"] for m in data["deleteTag"]["messages"]] == ["id"]
    async with database.read_sessions() as session:
        row = await session.get_one(Tag, int(b_tag))
    assert row.name == "B only"
    assert await count(database, Tagging) == 1


async def test_the_database_cascades_a_deleted_tag_to_its_taggings(
    api: Api, world: World, database: Database
) -> None:
    """The migration's ON DELETE CASCADE, on its own (the service also deletes explicitly)."""
    provider = api.with_key(world.a.provider.api_key)
    tag_id = await _tag_id(provider, "Tag A", world.a.patient_id)
    kept = await _tag_id(provider, "Kept", world.a.patient_id)
    async with database.write_sessions() as session, session.begin():
        await session.execute(delete(Tag).where(Tag.id == int(tag_id)))
    async with database.read_sessions() as session:
        taggings = (await session.execute(select(Tagging.tag_id, Tagging.user_id))).all()
    assert taggings == [(int(kept), world.a.patient_id)]
