"""users(should_paginate: false) returns at most CAREBOOK_UNPAGINATED_LIST_MAX_ROWS patients."""

from __future__ import annotations

from tests.limits.conftest import MakeApi
from tests.support.db import statements_sent
from tests.support.world import World

from carebook.db.engine import Database

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
    assert body["data"] == {"users": None}  # users is nullable, as in Healthie


async def test_a_whole_list_within_the_cap_is_returned(api_with: MakeApi, world: World) -> None:
    api = (await api_with(unpaginated_list_max_rows=2)).with_key(world.a.provider.api_key)
    ids = {u["id"] for u in (await api.data(QUERY, {"p": False}))["users"]}
    assert ids == {str(world.a.patient_id), str(world.a.other_patient_id)}


async def test_pages_are_not_capped(api_with: MakeApi, world: World) -> None:
    api = (await api_with(unpaginated_list_max_rows=1)).with_key(world.a.provider.api_key)
    query = "{ users(page_size: 2) { id } }"
    assert len((await api.data(query))["users"]) == 2


async def test_a_refused_whole_list_reads_no_patient_row(
    api_with: MakeApi, world: World, database: Database
) -> None:
    # The key's user is remembered (as served), so the only statements left are the request's.
    settings = {"unpaginated_list_max_rows": 1, "api_key_cache_seconds": 60}
    api = (await api_with(**settings)).with_key(world.a.provider.api_key)
    await api.data("{ currentUser { id } }")
    with statements_sent(database) as statements:
        assert await api.error_codes(QUERY, {"p": False}) == ["BAD_USER_INPUT"]
    # One bounded count of ids; no statement selects a patient's columns.
    assert len(statements) == 1, statements
    assert "count(" in statements[0].lower()
    assert "first_name" not in statements[0]


async def test_a_document_over_the_cost_limit_sends_no_statement(
    api_with: MakeApi, world: World, database: Database
) -> None:
    settings = {"max_query_cost": 10, "api_key_cache_seconds": 60}
    api = (await api_with(**settings)).with_key(world.a.provider.api_key)
    await api.data("{ currentUser { id } }")
    with statements_sent(database) as statements:
        codes = await api.error_codes("{ users(should_paginate: false) { id first_name } }")
    assert codes == ["QUERY_TOO_COMPLEX"]
    assert statements == []


async def test_every_whole_root_list_is_capped(api_with: MakeApi, world: World) -> None:
    # Organization A holds a group; one tag and one location are added: each list has one.
    api = (await api_with(unpaginated_list_max_rows=0)).with_key(world.a.provider.api_key)
    await api.data('mutation { createTag(input: {name: "One"}) { tag { id } } }')
    await api.data(
        'mutation { createLocation(input: {name: "Home", line1: "1 Main St", city: "Town", '
        f'user_id: "{world.a.patient_id}"}}) {{ location {{ id }} }} }}'
    )
    for query, what in (
        ("{ userGroups { id } }", "groups"),
        (
            f'{{ locations(should_paginate: false, user_id: "{world.a.patient_id}") {{ id }} }}',
            "locations",
        ),
        ("{ tags { id } }", "tags"),
    ):
        body = await api.post(query)
        assert body.get("errors"), (query, body)
        codes = [(e["extensions"]["code"], e["extensions"].get("limit")) for e in body["errors"]]
        assert codes == [("BAD_USER_INPUT", 0)], (query, body)
        assert what in body["errors"][0]["message"]
