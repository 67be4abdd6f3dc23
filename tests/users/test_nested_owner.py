"""A patient read with some columns, shown again as the owner of their addresses, answers every
field asked of that owner (the owner row is not the partly loaded one)."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.world import World

LOCATE = """mutation($user: String) { createLocation(input: {user_id: $user, name: "Home",
  line1: "1 Main St", city: "Town", state: "NY", zip: "10001", country: "US"}) {
  location { id } messages { field message } } }"""
OWNER = "id locations { user { id email first_name dob } }"


async def _located(api: Api, world: World) -> Any:
    caller = api.with_key(world.a.provider.api_key)
    data = await caller.data(LOCATE, {"user": str(world.a.patient_id)})
    assert data["createLocation"]["messages"] is None
    return caller


def _owners(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [loc["user"] for user in users for loc in user["locations"]]


async def test_the_list_shows_the_owner_whole(api: Api, world: World) -> None:
    caller = await _located(api, world)
    answer = await caller.post(f"{{ users(ids: [{world.a.patient_id}]) {{ {OWNER} }} }}")
    assert "errors" not in answer, answer
    (owner,) = _owners(answer["data"]["users"])
    whole = await caller.data(
        f'{{ user(id: "{world.a.patient_id}") {{ id email first_name dob }} }}'
    )
    assert owner == whole["user"] and owner["email"]


async def test_a_bulk_update_shows_the_owner_whole(api: Api, world: World) -> None:
    caller = await _located(api, world)
    answer = await caller.post(
        "mutation($input: bulkUpdateClientsInput) { bulkUpdateClients(input: $input) {"
        f" users {{ {OWNER} }} messages {{ field message }} }} }}",
        {"input": {"ids": [str(world.a.patient_id)], "user_group_id": str(world.a.group_id)}},
    )
    assert "errors" not in answer, answer
    (owner,) = _owners(answer["data"]["bulkUpdateClients"]["users"])
    whole = await caller.data(
        f'{{ user(id: "{world.a.patient_id}") {{ id email first_name dob }} }}'
    )
    assert owner == whole["user"] and owner["email"]
