"""What changed between a merge and its undo: the undo moves back only the rows the merge
moved (not a newer row with the same key), refuses with a message what it cannot put back
(a duplicate given to the archived patient since), and restores an address with its key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tests.support.api import Api
from tests.support.merges import full_record, merge, unmerge
from tests.support.world import World

from carebook.db.engine import Database
from carebook.tags.models import AppliedTag, Tagging

CLIENT = """mutation($first: String, $email: String) { createClient(input: {first_name: $first,
  last_name: "Since", email: $email, skipped_email: true}) {
  user { id } messages { field message } } }"""
TAG = """mutation($name: String, $user: ID) { createTag(input: {name: $name,
  taggable_user_id: $user}) { tag { id } messages { field message } } }"""
APPLY = """mutation($tag: ID, $user: ID) { bulkApply(input: {ids: [$tag],
  taggable_user_id: $user}) { tags { id } messages { field message } } }"""
REMOVE = """mutation($tag: ID, $user: ID) { removeAppliedTag(input: {id: $tag,
  taggable_user_id: $user}) { tag { id } messages { field message } } }"""
UPDATE = """mutation($input: updateClientInput) { updateClient(input: $input) {
  user { id } messages { field message } } }"""
LOCATE = """mutation($user: String) { createLocation(input: {user_id: $user, name: "Home",
  line1: "1 Main St", city: "Albany", state: "NY", zip: "12207"}) {
  location { id } messages { field message } } }"""
UNLOCATE = """mutation($id: ID) { deleteLocation(input: {id: $id}) {
  location { id } messages { field message } } }"""
READ = """query($id: ID) { user(id: $id, clear_notifs: false) {
  email active active_tags { id } other_provider_ids locations { id } } }"""


async def _ok(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = next(iter((await api.data(query, variables)).values()))
    assert payload["messages"] is None, payload
    return payload


async def _client(api: Api, name: str, email: str | None = None) -> str:
    return str((await _ok(api, CLIENT, {"first": name, "email": email}))["user"]["id"])


async def _user(api: Api, user_id: str) -> dict[str, Any]:
    user: dict[str, Any] = (await api.data(READ, {"id": user_id}))["user"]
    return user


async def _tag_rows_agree(database: Database, user_ids: list[str]) -> None:
    """tags/models.py: a tagging exists exactly when a live applied tag of it does."""
    async with database.read_sessions() as session:
        for uid in map(int, user_ids):
            live = await session.scalars(select(Tagging.tag_id).where(Tagging.user_id == uid))
            applied = await session.scalars(
                select(AppliedTag.tag_id).where(
                    AppliedTag.user_id == uid, AppliedTag.deleted_at.is_(None)
                )
            )
            assert sorted(live) == sorted(applied), uid


async def test_a_tag_taken_off_and_applied_again_since_stays_with_the_target(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    target, merged = await _client(staff, "Target"), await _client(staff, "Merged")
    tag = (await _ok(staff, TAG, {"name": "again", "user": merged}))["tag"]["id"]
    assert (await merge(staff, ids=[merged], target_user_id=target))["messages"] is None
    await _ok(staff, REMOVE, {"tag": tag, "user": target})
    await _ok(staff, APPLY, {"tag": tag, "user": target})
    assert (await unmerge(staff, merged))["messages"] is None
    # The application the merge moved was removed; the one made since is the target's.
    assert [t["id"] for t in (await _user(staff, target))["active_tags"]] == [tag]
    assert (await _user(staff, merged))["active_tags"] == []
    await _tag_rows_agree(database, [target, merged])


async def test_a_care_team_member_removed_and_added_again_since_stays(
    api: Api, world: World
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    member = str(world.a.staff.user_id)
    target, merged = await _client(staff, "Target"), await _client(staff, "Merged")
    await _ok(staff, UPDATE, {"input": {"id": merged, "other_provider_ids": member}})
    assert (await merge(staff, ids=[merged], target_user_id=target))["messages"] is None
    await _ok(staff, UPDATE, {"input": {"id": target, "other_provider_ids": ""}})
    await _ok(staff, UPDATE, {"input": {"id": target, "other_provider_ids": member}})
    assert (await unmerge(staff, merged))["messages"] is None
    assert (await _user(staff, target))["other_provider_ids"] == [member]
    assert (await _user(staff, merged))["other_provider_ids"] == []


async def test_a_new_address_of_the_target_stays_even_with_a_deleted_ones_id(
    api: Api, world: World
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    target, merged = await _client(staff, "Target"), await _client(staff, "Merged")
    old = (await _ok(staff, LOCATE, {"user": merged}))["location"]["id"]
    assert (await merge(staff, ids=[merged], target_user_id=target))["messages"] is None
    await _ok(staff, UNLOCATE, {"id": old})
    # SQLite gives the newest row's id, deleted, to the next one: the same key, another row.
    new = (await _ok(staff, LOCATE, {"user": target}))["location"]["id"]
    assert (await unmerge(staff, merged))["messages"] is None
    assert (await _user(staff, target))["locations"] == [{"id": new}]
    assert (await _user(staff, merged))["locations"] == []


async def test_a_duplicate_given_to_the_archived_patient_is_a_message(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    target, merged = await _client(staff, "Target"), await _client(staff, "Merged")
    tag = (await _ok(staff, TAG, {"name": "twice", "user": merged}))["tag"]["id"]
    assert (await merge(staff, ids=[merged], target_user_id=target))["messages"] is None
    await _ok(staff, APPLY, {"tag": tag, "user": merged})  # the archived patient, again
    before = await full_record(database, [int(target), int(merged)])
    refused = await unmerge(staff, merged)
    assert refused["messages"] == [
        {
            "field": "id",
            "message": f"Client {merged} was given a tag since the merge that the merge had "
            f"moved to the other client; remove it from client {merged}, then undo the merge",
        }
    ]
    assert await full_record(database, [int(target), int(merged)]) == before
    await _ok(staff, REMOVE, {"tag": tag, "user": merged})
    assert (await unmerge(staff, merged))["messages"] is None
    assert [t["id"] for t in (await _user(staff, merged))["active_tags"]] == [tag]
    assert (await _user(staff, target))["active_tags"] == []
    await _tag_rows_agree(database, [target, merged])


async def test_an_address_comes_back_with_its_key_or_not_at_all(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    target = await _client(staff, "Target", "target.pair@example.com")
    merged = await _client(staff, "Merged", "Dup.Pair@example.com")
    done = await merge(
        staff, ids=[merged], target_user_id=target, target_email="Dup.Pair@example.com"
    )
    assert done["messages"] is None
    # The same address in other letters: the email changes, its key does not.
    await _ok(staff, UPDATE, {"input": {"id": target, "email": "DUP.PAIR@example.com"}})
    before = await full_record(database, [int(target), int(merged)])
    refused = await unmerge(staff, merged)
    assert refused["messages"] == [
        {"field": "id", "message": f"Client {merged}'s email has been taken since"}
    ]
    assert await full_record(database, [int(target), int(merged)]) == before
    assert (await _user(staff, target))["email"] == "DUP.PAIR@example.com"
    assert (await _user(staff, merged))["email"] is None
