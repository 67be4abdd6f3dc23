"""users(should_paginate: false) returns at most CAREBOOK_UNPAGINATED_LIST_MAX_ROWS patients."""

from __future__ import annotations

from tests.limits.conftest import MakeApi
from tests.support.world import World

QUERY = "query($p: Boolean) { users(should_paginate: $p) { id } }"


async def test_a_whole_list_over_the_cap_is_refused_with_the_limit(
    api_with: MakeApi, world: World
) -> None:
    # Organization A has two patients.
    api = (await api_with(unpaginated_list_max_rows=1)).with_key(world.a.provider.api_key)
    body = await api.post(QUERY, {"p": False})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": 1}
    assert "at most 1 patients" in error["message"]
    assert "page_size" in error["message"]
    assert body["data"] is None


async def test_a_whole_list_within_the_cap_is_returned(api_with: MakeApi, world: World) -> None:
    api = (await api_with(unpaginated_list_max_rows=2)).with_key(world.a.provider.api_key)
    ids = {u["id"] for u in (await api.data(QUERY, {"p": False}))["users"]}
    assert ids == {str(world.a.patient_id), str(world.a.other_patient_id)}


async def test_pages_are_not_capped(api_with: MakeApi, world: World) -> None:
    api = (await api_with(unpaginated_list_max_rows=1)).with_key(world.a.provider.api_key)
    query = "{ users(page_size: 2) { id } }"
    assert len((await api.data(query))["users"]) == 2
