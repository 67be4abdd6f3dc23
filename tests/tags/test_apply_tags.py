"""bulkApply and removeAppliedTag: any number of tags per patient, idempotent, all or nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tests.support.api import Api
from tests.support.db import count
from tests.support.seed_tag_location_documents import APPLY_TAGS, CREATE_TAG, REMOVE_APPLIED_TAG
from tests.support.world import World

from carebook.db.engine import Database
from carebook.tags.models import Tagging

USER_TAGS = "query($id: ID) { user(id: $id) { active_tags { id name } } }"


async def _tag(api: Api, name: str) -> str:
    data = await api.data(CREATE_TAG, {"name": name})
    assert data["createTag"]["messages"] is None
    tag_id: str = data["createTag"]["tag"]["id"]
    return tag_id


async def _apply(api: Api, ids: list[Any], user_id: Any) -> dict[str, Any]:
    data = await api.data(APPLY_TAGS, {"ids": ids, "taggable_user_id": user_id})
    payload: dict[str, Any] = data["bulkApply"]
    return payload


async def _active_tags(api: Api, user_id: int) -> list[str]:
    data = await api.data(USER_TAGS, {"id": str(user_id)})
    return [tag["name"] for tag in data["user"]["active_tags"]]


async def _taggings(database: Database) -> set[tuple[int, int]]:
    async with database.read_sessions() as session:
        rows = await session.execute(select(Tagging.tag_id, Tagging.user_id))
        return {(tag_id, user_id) for tag_id, user_id in rows}


async def test_seed_document_applies_several_tags_to_a_patient(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    ids = [await _tag(provider, name) for name in ("Diabetes", "Athlete", "VIP")]
    payload = await _apply(provider, ids, str(world.a.patient_id))
    assert payload == {
        "tags": [
            {"id": ids[0], "name": "Diabetes"},
            {"id": ids[1], "name": "Athlete"},
            {"id": ids[2], "name": "VIP"},
        ],
        "messages": None,
    }
    assert await _active_tags(provider, world.a.patient_id) == ["Athlete", "Diabetes", "VIP"]
    assert await _active_tags(provider, world.a.other_patient_id) == []


async def test_a_patient_can_carry_many_tags(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    ids = [await _tag(provider, f"Tag {index:02d}") for index in range(25)]
    assert (await _apply(provider, ids, world.a.patient_id))["messages"] is None
    assert len(await _active_tags(provider, world.a.patient_id)) == 25


async def test_applying_a_tag_twice_is_harmless(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    tag_id = await _tag(provider, "VIP")
    for ids in ([tag_id], [tag_id, tag_id], [tag_id]):
        payload = await _apply(provider, ids, world.a.patient_id)
        assert payload == {"tags": [{"id": tag_id, "name": "VIP"}], "messages": None}
    data = await provider.data(
        CREATE_TAG, {"name": "Other", "taggable_user_id": str(world.a.patient_id)}
    )
    assert data["createTag"]["messages"] is None
    assert await _active_tags(provider, world.a.patient_id) == ["Other", "VIP"]
    assert await count(database, Tagging) == 2


async def test_apply_is_all_or_nothing(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    mine = await _tag(provider, "Mine")
    theirs = await _tag(api.with_key(world.b.provider.api_key), "Theirs")
    payload = await _apply(provider, [mine, theirs, "424242"], world.a.patient_id)
    assert payload == {
        "tags": None,
        "messages": [{"field": "ids", "message": f"Tags not found: {theirs}, 424242"}],
    }
    assert await count(database, Tagging) == 0


async def test_apply_needs_ids_and_a_visible_user(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    tag_id = await _tag(provider, "VIP")
    cases: list[tuple[Any, Any, dict[str, str]]] = [
        ([], world.a.patient_id, {"field": "ids", "message": "Ids can't be blank"}),
        (None, world.a.patient_id, {"field": "ids", "message": "Ids can't be blank"}),
        (["x"], world.a.patient_id, {"field": "ids", "message": "'x' is not a valid id"}),
        (
            [tag_id],
            None,
            {"field": "taggable_user_id", "message": "Taggable user can't be blank"},
        ),
        ([tag_id], world.b.patient_id, {"field": "taggable_user_id", "message": "User not found"}),
        ([tag_id], 424242, {"field": "taggable_user_id", "message": "User not found"}),
    ]
    for ids, user_id, message in cases:
        variables = {"ids": ids, "taggable_user_id": None if user_id is None else str(user_id)}
        data = await provider.data(APPLY_TAGS, variables)
        assert data["bulkApply"] == {"tags": None, "messages": [message]}, variables
    assert await count(database, Tagging) == 0


async def test_at_most_the_configured_number_of_tags_at_once(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    payload = await _apply(provider, [str(i) for i in range(1, 52)], world.a.patient_id)
    assert payload["messages"] == [
        {"field": "ids", "message": "At most 50 tags can be applied at once"}
    ]


async def test_seed_document_removes_an_applied_tag(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    vip, other = await _tag(provider, "VIP"), await _tag(provider, "Other")
    await _apply(provider, [vip, other], world.a.patient_id)
    await _apply(provider, [vip], world.a.other_patient_id)
    data = await provider.data(
        REMOVE_APPLIED_TAG, {"id": vip, "taggable_user_id": str(world.a.patient_id)}
    )
    assert data["removeAppliedTag"] == {"tag": {"id": vip, "name": "VIP"}, "messages": None}
    assert await _active_tags(provider, world.a.patient_id) == ["Other"]
    assert await _active_tags(provider, world.a.other_patient_id) == ["VIP"]
    # Removing a tag the patient no longer carries changes nothing and is not an error.
    data = await api.with_key(world.a.staff.api_key).data(
        REMOVE_APPLIED_TAG, {"id": vip, "taggable_user_id": str(world.a.patient_id)}
    )
    assert data["removeAppliedTag"] == {"tag": {"id": vip, "name": "VIP"}, "messages": None}
    assert await _taggings(database) == {
        (int(other), world.a.patient_id),
        (int(vip), world.a.other_patient_id),
    }


async def test_remove_never_reaches_another_organization(
    api: Api, world: World, database: Database
) -> None:
    a = api.with_key(world.a.provider.api_key)
    b = api.with_key(world.b.provider.api_key)
    a_tag, b_tag = await _tag(a, "A tag"), await _tag(b, "B tag")
    await _apply(a, [a_tag], world.a.patient_id)
    await _apply(b, [b_tag], world.b.patient_id)
    cases = [
        (b_tag, world.b.patient_id, "id", "Tag not found"),
        (a_tag, world.b.patient_id, "taggable_user_id", "User not found"),
        (b_tag, world.a.patient_id, "id", "Tag not found"),
        (None, world.a.patient_id, "id", "Id can't be blank"),
    ]
    for tag_id, user_id, field, message in cases:
        data = await a.data(REMOVE_APPLIED_TAG, {"id": tag_id, "taggable_user_id": str(user_id)})
        assert data["removeAppliedTag"] == {
            "tag": None,
            "messages": [{"field": field, "message": message}],
        }
    assert await _taggings(database) == {
        (int(a_tag), world.a.patient_id),
        (int(b_tag), world.b.patient_id),
    }


async def test_patients_cannot_tag_anyone(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    tag_id = await _tag(provider, "VIP")
    patient = api.with_token(world.a.patient_token)
    variables = {"ids": [tag_id], "taggable_user_id": str(world.a.patient_id)}
    assert await patient.error_codes(APPLY_TAGS, variables) == ["FORBIDDEN"]
    variables = {"id": tag_id, "taggable_user_id": str(world.a.patient_id)}
    assert await patient.error_codes(REMOVE_APPLIED_TAG, variables) == ["FORBIDDEN"]
    assert await patient.error_codes(CREATE_TAG, {"name": "Mine"}) == ["FORBIDDEN"]
    assert await api.error_codes(CREATE_TAG, {"name": "Mine"}) == ["UNAUTHENTICATED"]
