"""A merge racing with writes to either patient loses nothing, whatever order they run in.

Every round fires the merge and four writes at once (asyncio.gather over the real ASGI app,
one connection each), on SQLite (writers take turns) and PostgreSQL (the merge locks both
patients' rows; an update waits for it, a new row's foreign-key check too; a tag applied to the
target at the same moment as the merge moves the merged patient's copy is a unique-index race
that the write retry re-runs). The assertions hold for every order: each write is there after
the merge, and after its undo, but an update of the merged patient that comes after the merge,
which is refused (a merged patient is an alias, carebook/users/merged.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.api import Api
from tests.support.merges import merge, owned, unmerge
from tests.support.world import World

from carebook.db.engine import Database
from carebook.users.merged import MERGED as REFUSED

ROUNDS = 4
CLIENT = """mutation($first: String) { createClient(input: {first_name: $first,
  last_name: "Racer", skipped_email: true}) { user { id } messages { field message } } }"""
TAG = """mutation($name: String, $user: ID) { createTag(input: {name: $name,
  taggable_user_id: $user}) { tag { id } messages { field message } } }"""
UPDATE = """mutation($input: updateClientInput) { updateClient(input: $input) {
  user { id } messages { field message } } }"""
APPLY = """mutation($tag: ID, $user: ID) { bulkApply(input: {ids: [$tag],
  taggable_user_id: $user}) { tags { id } messages { field message } } }"""
LOCATE = """mutation($user: String) { createLocation(input: {user_id: $user, name: "Race",
  line1: "1 Race St", city: "Albany", state: "NY", zip: "12207"}) {
  location { id } messages { field message } } }"""
READ = """query($id: ID) { user(id: $id, clear_notifs: false) {
  phone_number pronouns active active_tags { id } } }"""


async def _ok(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = next(iter((await api.data(query, variables)).values()))
    assert payload["messages"] is None, payload
    return payload


async def _client(api: Api, name: str) -> str:
    return str((await _ok(api, CLIENT, {"first": name}))["user"]["id"])


async def _user(api: Api, user_id: str) -> dict[str, Any]:
    user: dict[str, Any] = (await api.data(READ, {"id": user_id}))["user"]
    return user


async def test_a_merge_racing_with_writes_to_both_patients_loses_nothing(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    for round_ in range(ROUNDS):
        target, merged = await _client(staff, f"T{round_}"), await _client(staff, f"M{round_}")
        tag = (await _ok(staff, TAG, {"name": f"race {round_}", "user": merged}))["tag"]["id"]
        results = await asyncio.gather(
            merge(staff, ids=[merged], target_user_id=target),
            _ok(staff, UPDATE, {"input": {"id": target, "phone_number": "+15550001111"}}),
            staff.data(UPDATE, {"input": {"id": merged, "pronouns": "they"}}),
            _ok(staff, APPLY, {"tag": tag, "user": target}),
            _ok(staff, LOCATE, {"user": merged}),
        )
        assert results[0]["messages"] is None, results[0]
        location = int(results[4]["location"]["id"])
        kept, moved = await _user(staff, target), await _user(staff, merged)
        # Before the merge the update is applied; after it, a merged patient is refused it.
        refused = results[2]["updateClient"]["messages"]
        assert refused in (None, [{"field": "id", "message": f"Client {merged} {REFUSED}"}])
        pronouns = "they" if refused is None else None
        assert kept["phone_number"] == "+15550001111" and moved["pronouns"] == pronouns
        assert kept["active"] is True and moved["active"] is False
        assert [t["id"] for t in kept["active_tags"]] == [tag]  # once, not twice
        # The address is the target's (made before the merge) or the archived patient's.
        assert await owned(database, "locations", "id", location) == 1

        assert (await unmerge(staff, merged))["messages"] is None
        back, target_back = await _user(staff, merged), await _user(staff, target)
        assert back["active"] is True and back["pronouns"] == pronouns
        assert [t["id"] for t in back["active_tags"]] == [tag]
        # Applied before the merge, the target's own tag stays; applied after, it found the
        # moved copy there and changed nothing, and the undo takes that copy back.
        assert [t["id"] for t in target_back["active_tags"]] in ([tag], [])
        assert target_back["phone_number"] == "+15550001111"
        assert await owned(database, "locations", "user_id", int(merged)) == 1
