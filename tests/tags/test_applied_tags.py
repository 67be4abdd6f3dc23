"""Applied tags as integrations read them: appliedTag(id, include_deleted), appliedTags and
tagsCount. The documents follow a public Healthie integration's (apply, read back by the
webhook's applied-tag id, remove, read the removed one with include_deleted)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from tests.support.api import Api
from tests.support.seed_tag_location_documents import CREATE_TAG, DELETE_TAG
from tests.support.world import World

from carebook.db.engine import Database
from carebook.tags.models import AppliedTag, Tagging

APPLY = """mutation applyTagsToUser($ids: [ID], $taggable_user_id: ID) {
  bulkApply(input: { ids: $ids, taggable_user_id: $taggable_user_id }) {
    tags { id name } messages { field message } } }"""
REMOVE = """mutation removeTagFromUser($id: ID, $taggable_user_id: ID) {
  removeAppliedTag(input: { id: $id, taggable_user_id: $taggable_user_id }) {
    tag { id name } messages { field message } } }"""
GET_APPLIED_TAG = """query getAppliedTag($id: ID!, $include_deleted: Boolean = false) {
  appliedTag(id: $id, include_deleted: $include_deleted) {
    created_at id tag_id updated_at user_id } }"""
APPLIED_TAGS = """query appliedTags($id: ID, $tag_id: ID, $order_by: AppliedTagOrderKeys,
  $updated_after: ISO8601DateTime, $updated_before: ISO8601DateTime) {
  appliedTags(id: $id, tag_id: $tag_id, order_by: $order_by, updated_after: $updated_after,
              updated_before: $updated_before) {
    id tag_id user_id created_at tag { id name } user { id } } }"""
TAGS_COUNT = """query tagsCount($ids: [ID], $user_id: String, $applied_to_providers: Boolean) {
  tagsCount(ids: $ids, user_id: $user_id, applied_to_providers: $applied_to_providers) }"""
TAGS = """query tags($ids: [ID], $user_id: String, $applied_to_providers: Boolean) {
  tags(ids: $ids, user_id: $user_id, applied_to_providers: $applied_to_providers) { id } }"""


async def _tag(api: Api, name: str) -> str:
    data = await api.data(CREATE_TAG, {"name": name})
    assert not data["createTag"]["messages"]
    tag_id: str = data["createTag"]["tag"]["id"]
    return tag_id


async def _apply(api: Api, tag_ids: list[str], user_id: int) -> None:
    data = await api.data(APPLY, {"ids": tag_ids, "taggable_user_id": str(user_id)})
    assert not data["bulkApply"]["messages"], data


async def _applied(api: Api, **variables: Any) -> list[dict[str, Any]]:
    data = await api.data(APPLIED_TAGS, variables)
    rows: list[dict[str, Any]] = data["appliedTags"]
    return rows


async def _get(api: Api, applied_id: str, include_deleted: bool | None = None) -> Any:
    variables: dict[str, Any] = {"id": applied_id}
    if include_deleted is not None:
        variables["include_deleted"] = include_deleted
    return (await api.data(GET_APPLIED_TAG, variables))["appliedTag"]


async def test_an_applied_tag_is_read_back_by_its_own_id(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    vip = await _tag(provider, "VIP")
    await _apply(provider, [vip], world.a.patient_id)
    [listed] = await _applied(provider, id=str(world.a.patient_id))
    assert listed["tag"] == {"id": vip, "name": "VIP"}
    assert listed["user"] == {"id": str(world.a.patient_id)}

    record = await _get(provider, listed["id"])
    assert record["id"] == listed["id"]
    assert record["tag_id"] == vip
    assert record["user_id"] == str(world.a.patient_id)  # what the webhook handler reads
    for stamp in (record["created_at"], record["updated_at"]):  # Healthie's String date-time
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}", stamp), stamp
    # Who applied it is kept with the record.
    async with database.read_sessions() as session:
        row = await session.get(AppliedTag, int(listed["id"]))
        assert row is not None and row.applied_by_id == world.a.provider.user_id
    # Applying it again changes nothing: still one record, same id.
    await _apply(provider, [vip], world.a.patient_id)
    assert [r["id"] for r in await _applied(provider, id=str(world.a.patient_id))] == [listed["id"]]


async def test_a_removed_tag_stays_readable_with_include_deleted(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    vip = await _tag(provider, "VIP")
    await _apply(provider, [vip], world.a.patient_id)
    [listed] = await _applied(provider, id=str(world.a.patient_id))
    before = await _get(provider, listed["id"])

    data = await provider.data(REMOVE, {"id": vip, "taggable_user_id": str(world.a.patient_id)})
    assert data["removeAppliedTag"]["tag"] == {"id": vip, "name": "VIP"}

    assert await _get(provider, listed["id"]) is None
    assert await _get(provider, listed["id"], include_deleted=False) is None
    removed = await _get(provider, listed["id"], include_deleted=True)
    assert removed["id"] == listed["id"]
    assert removed["user_id"] == str(world.a.patient_id)
    assert removed["tag_id"] == vip
    assert removed["created_at"] == before["created_at"]
    assert removed["updated_at"] >= before["updated_at"]
    assert await _applied(provider, id=str(world.a.patient_id)) == []
    async with database.read_sessions() as session:
        assert (await session.execute(select(Tagging))).first() is None  # the live set is empty

    # Applied again, it is a new application with a new id; the removed one stays removed.
    await _apply(provider, [vip], world.a.patient_id)
    [again] = await _applied(provider, id=str(world.a.patient_id))
    assert again["id"] != listed["id"]
    assert await _get(provider, listed["id"]) is None


async def test_deleting_the_tag_keeps_its_applications_readable_without_the_tag(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    vip = await _tag(provider, "VIP")
    await _apply(provider, [vip], world.a.patient_id)
    [listed] = await _applied(provider, id=str(world.a.patient_id))
    assert not (await provider.data(DELETE_TAG, {"id": vip}))["deleteTag"]["messages"]

    assert await _get(provider, listed["id"]) is None
    removed = await _get(provider, listed["id"], include_deleted=True)
    assert removed["user_id"] == str(world.a.patient_id)
    assert removed["tag_id"] is None
    assert await _applied(provider) == []


async def test_a_patient_reads_only_their_own_applied_tags(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    vip = await _tag(provider, "VIP")
    await _apply(provider, [vip], world.a.patient_id)
    await _apply(provider, [vip], world.a.other_patient_id)
    [mine] = await _applied(provider, id=str(world.a.patient_id))
    [theirs] = await _applied(provider, id=str(world.a.other_patient_id))

    patient = api.with_token(world.a.patient_token)
    assert (await _get(patient, mine["id"]))["user_id"] == str(world.a.patient_id)
    assert await _get(patient, theirs["id"]) is None
    assert await _get(patient, theirs["id"], include_deleted=True) is None
    assert [r["id"] for r in await _applied(patient)] == [mine["id"]]
    assert await _applied(patient, id=str(world.a.other_patient_id)) == []
    assert await _applied(patient, tag_id=vip) == [
        {**mine, "user": {"id": str(world.a.patient_id)}}
    ]

    # Another organization sees none of them; an anonymous caller is refused.
    other_org = api.with_key(world.b.provider.api_key)
    assert await _get(other_org, mine["id"], include_deleted=True) is None
    assert await _applied(other_org) == []
    assert await api.error_codes(GET_APPLIED_TAG, {"id": mine["id"]}) == ["UNAUTHENTICATED"]


async def test_applied_tags_filters_and_orders(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    vip, athlete = await _tag(provider, "VIP"), await _tag(provider, "Athlete")
    await _apply(provider, [vip, athlete], world.a.patient_id)
    await _apply(provider, [vip], world.a.other_patient_id)

    everyone = await _applied(provider)
    assert len(everyone) == 3
    assert [r["id"] for r in everyone] == sorted((r["id"] for r in everyone), key=int)
    newest_first = await _applied(provider, order_by="CREATED_AT_DESC")
    assert [r["id"] for r in newest_first] == [r["id"] for r in reversed(everyone)]
    assert {r["user_id"] for r in await _applied(provider, tag_id=vip)} == {
        str(world.a.patient_id),
        str(world.a.other_patient_id),
    }
    assert await _applied(provider, updated_after="2000-01-01T00:00:00Z") == everyone
    assert await _applied(provider, updated_after="2999-01-01 00:00:00 +0000") == []
    assert await _applied(provider, updated_before="2000-01-01T00:00:00+02:00") == []
    codes = await provider.error_codes(APPLIED_TAGS, {"updated_after": "yesterday"})
    assert codes == ["BAD_USER_INPUT"]
    assert await provider.error_codes(APPLIED_TAGS, {"tag_id": "x"}) == ["BAD_USER_INPUT"]


async def test_tags_count_counts_what_tags_lists(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    vip, athlete = await _tag(provider, "VIP"), await _tag(provider, "Athlete")
    await _tag(provider, "Unused")
    await _apply(provider, [vip, athlete], world.a.patient_id)
    await _apply(provider, [vip], world.a.staff.user_id)
    await _tag(api.with_key(world.b.provider.api_key), "Elsewhere")

    cases: list[dict[str, Any]] = [
        {},
        {"user_id": str(world.a.patient_id)},
        {"ids": [vip, "424242"]},
        {"applied_to_providers": True},
        {"user_id": str(world.b.patient_id)},
    ]
    expected = [3, 2, 1, 1, 0]
    for variables, count in zip(cases, expected, strict=True):
        listed = (await provider.data(TAGS, variables))["tags"]
        counted = (await provider.data(TAGS_COUNT, variables))["tagsCount"]
        assert counted == len(listed) == count, variables

    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(TAGS_COUNT))["tagsCount"] == 2  # the tags on themselves
    # Which of their tags a staff member also carries (VIP) is not the patient's to learn.
    on_staff = {"applied_to_providers": True}
    assert (await patient.data(TAGS_COUNT, on_staff))["tagsCount"] == 0
    assert (await patient.data(TAGS, on_staff))["tags"] == []
