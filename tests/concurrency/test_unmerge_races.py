"""Two unmerges of one merge, at once, with an update of the target: one undo, nothing lost.

Fired together (asyncio.gather over the real ASGI app, one connection each) on SQLite (writers
take turns) and PostgreSQL (each unmerge locks the patients, then the merge's log row, and
checks every rule again on what it reads under the locks). The assertions hold in every order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.api import Api
from tests.support.merges import merge, unmerge
from tests.support.world import World

ROUNDS = 4
CLIENT = """mutation($first: String, $email: String) { createClient(input: {first_name: $first,
  last_name: "Undo", email: $email}) { user { id } messages { field message } } }"""
UPDATE = """mutation($input: updateClientInput) { updateClient(input: $input) {
  user { id } messages { field message } } }"""
READ = """query($id: ID) { user(id: $id, clear_notifs: false) { email active } }"""
NOT_MERGED = [{"field": "id", "message": "This client was not merged into another"}]


async def _client(api: Api, name: str) -> str:
    payload = await api.data(CLIENT, {"first": name, "email": f"{name}@example.com"})
    assert payload["createClient"]["messages"] is None, payload
    return str(payload["createClient"]["user"]["id"])


async def _user(api: Api, user_id: str) -> dict[str, Any]:
    user: dict[str, Any] = (await api.data(READ, {"id": user_id}))["user"]
    return user


async def test_two_unmerges_at_once_undo_once_and_keep_a_concurrent_update(
    api: Api, world: World
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    for round_ in range(ROUNDS):
        target, merged = await _client(staff, f"t{round_}"), await _client(staff, f"m{round_}")
        # The target takes the merged patient's address; the undo gives it back.
        done = await merge(
            staff, ids=[merged], target_user_id=target, target_email=f"m{round_}@example.com"
        )
        assert done["messages"] is None, done
        newest = f"new{round_}@example.com"
        first, second, updated = await asyncio.gather(
            unmerge(staff, merged),
            unmerge(staff, merged),
            staff.data(UPDATE, {"input": {"id": target, "email": newest}}),
        )
        outcomes = sorted([first["messages"] is None, second["messages"] is None])
        assert outcomes == [False, True], (first, second)
        assert (first["messages"] or second["messages"]) == NOT_MERGED
        assert updated["updateClient"]["messages"] is None, updated
        # Before the undo, the update wins over the merge's address; after it, over the old.
        assert (await _user(staff, target))["email"] == newest
        assert (await _user(staff, merged)) == {"email": f"m{round_}@example.com", "active": True}
