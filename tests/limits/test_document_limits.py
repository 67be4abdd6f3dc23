"""Depth, alias, token and cost limits: each refuses with QUERY_TOO_COMPLEX and runs nothing."""

from __future__ import annotations

import time
from typing import Any

from graphql import get_introspection_query
from tests.limits.conftest import MakeApi
from tests.support.api import Api
from tests.support.auth_helpers import count_rows
from tests.support.world import World

from carebook.db.engine import Database
from carebook.users.models import User

CREATE = """mutation($e: String) {
  createClient(input: {first_name: "Ada", last_name: "Byron", email: $e}) { SELECTION } }"""
DEEP = "user { dietitian { dietitian { id } } }"  # createClient > user > dietitian x2 > id: 5


def create(selection: str) -> str:
    """A createClient document returning ``selection``."""
    return CREATE.replace("SELECTION", selection)


async def provider(api_with: MakeApi, world: World, **limits: Any) -> Api:
    """Organization A's provider on an app with these limits."""
    return (await api_with(**limits)).with_key(world.a.provider.api_key)


async def refused(api: Api, database: Database, query: str, **variables: Any) -> dict[str, Any]:
    """The single QUERY_TOO_COMPLEX error of ``query``, after checking nothing was written."""
    users = await count_rows(database, User)
    body = await api.post(query, variables)
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
    assert await count_rows(database, User) == users
    result: dict[str, Any] = error
    return result


async def test_a_document_nested_deeper_than_the_limit_runs_nothing(
    api_with: MakeApi, world: World, database: Database
) -> None:
    api = await provider(api_with, world, max_query_depth=4)
    error = await refused(api, database, create(DEEP), e="ada@example.com")
    assert "5 levels deep; at most 4" in error["message"]
    assert error["extensions"] | {"limit": 4, "actual": 5} == error["extensions"]


async def test_a_document_at_the_depth_limit_runs(
    api_with: MakeApi, world: World, database: Database
) -> None:
    api = await provider(api_with, world, max_query_depth=5)
    data = await api.data(create(DEEP), {"e": "ada@example.com"})
    assert data["createClient"]["user"]["dietitian"] == {"dietitian": None}


async def test_depth_counts_through_fragments(api_with: MakeApi, world: World) -> None:
    api = await provider(api_with, world, max_query_depth=3)
    query = """query($id: ID) { user(id: $id) { ...D } }
      fragment D on User { dietitian { ... on User { dietitian { id } } } }"""
    codes = await api.error_codes(query, {"id": str(world.a.patient_id)})
    assert codes == ["QUERY_TOO_COMPLEX"]


async def test_too_many_aliases_run_nothing(
    api_with: MakeApi, world: World, database: Database
) -> None:
    api = await provider(api_with, world, max_query_aliases=1)
    query = """mutation {
      a: createClient(input: {first_name: "A", last_name: "One"}) { user { id } }
      b: createClient(input: {first_name: "B", last_name: "Two"}) { user { id } } }"""
    error = await refused(api, database, query)
    assert "2 aliases; at most 1" in error["message"]


async def test_aliases_in_a_fragment_count_at_every_spread(api_with: MakeApi, world: World) -> None:
    api = await provider(api_with, world, max_query_aliases=3)
    query = "{ currentUser { ...F ...F } } fragment F on User { a: id b: id }"
    assert await api.error_codes(query) == ["QUERY_TOO_COMPLEX"]
    # The same two aliases spread once are within the limit.
    assert await api.data("{ currentUser { ...F } } fragment F on User { a: id b: id }")


async def test_a_fragment_bomb_is_refused_quickly(api_with: MakeApi, world: World) -> None:
    # Each fragment spreads the next twice: 2^40 aliased fields if expanded naively.
    fragments = ["fragment F0 on User { a: id }"] + [
        f"fragment F{i} on User {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 41)
    ]
    query = "{ currentUser { ...F40 } } " + " ".join(fragments)
    api = await provider(api_with, world)
    started = time.monotonic()
    codes = await api.error_codes(query)
    assert codes == ["QUERY_TOO_COMPLEX"]
    assert time.monotonic() - started < 5


async def test_an_unknown_fragment_is_a_validation_error_not_a_fault(
    api_with: MakeApi, world: World
) -> None:
    # Strawberry's own depth limiter raises KeyError here.
    api = await provider(api_with, world)
    assert await api.error_codes("{ currentUser { ...Nope } }") == ["GRAPHQL_VALIDATION_FAILED"]


async def test_too_many_tokens_run_nothing(
    api_with: MakeApi, world: World, database: Database
) -> None:
    api = await provider(api_with, world, max_query_tokens=20)
    error = await refused(api, database, create("user { id first_name last_name }"), e="a@b.co")
    assert "more than 20 tokens" in error["message"]


async def test_a_costly_document_runs_nothing(
    api_with: MakeApi, world: World, database: Database
) -> None:
    # payload 1 + user 1 + active_tags 10 (not paginated: the nested cap) = 12
    api = await provider(api_with, world, max_query_cost=11, nested_list_max_rows=10)
    error = await refused(api, database, create("user { id active_tags { id } }"), e="a@b.co")
    assert "about 12 objects; at most 11" in error["message"]
    assert error["extensions"]["actual"] == 12
    api = await provider(api_with, world, max_query_cost=12, nested_list_max_rows=10)
    assert await api.data(create("user { id active_tags { id } }"), {"e": "a@b.co"})


async def test_a_payloads_messages_cost_one_object_not_a_list_of_rows(
    api_with: MakeApi, world: World, database: Database
) -> None:
    # payload 1 + user 1 + messages 1: the messages are built from the input, not read.
    api = await provider(api_with, world, max_query_cost=3)
    body = await api.data(create("user { id } messages { field message }"), {"e": "a@b.co"})
    assert body["createClient"]["user"]["id"]
    # A list of rows under the payload's user still costs what it can hold (the nested cap).
    await refused(api, database, create("user { id active_tags { id } }"), e="c@d.co")


async def test_cost_uses_the_page_size_sent_in_variables(api_with: MakeApi, world: World) -> None:
    api = await provider(api_with, world, max_query_cost=5)
    query = "query($n: Int) { users(page_size: $n) { id } }"
    assert await api.data(query, {"n": 5})
    assert await api.error_codes(query, {"n": 6}) == ["QUERY_TOO_COMPLEX"]
    # A default declared on the variable counts the same way.
    assert await api.error_codes("query($n: Int = 6) { users(page_size: $n) { id } }") == [
        "QUERY_TOO_COMPLEX"
    ]


async def test_nested_lists_multiply(api_with: MakeApi, world: World) -> None:
    api = await provider(api_with, world, max_query_cost=100, nested_list_max_rows=10)
    # users 5 + 5 x active_tags 10 = 55: allowed; 5 + 5 x (10 + 10 x 10 ...) is not.
    assert await api.data("{ users(page_size: 5) { id active_tags { id } } }")
    deep = "{ users(page_size: 5) { providers { active_tags { id } } } }"
    assert await api.error_codes(deep) == ["QUERY_TOO_COMPLEX"]


async def test_a_list_narrowed_to_ids_costs_at_most_that_many(
    api_with: MakeApi, world: World
) -> None:
    api = await provider(api_with, world, max_query_cost=30, nested_list_max_rows=10)
    wide = "{ users(page_size: 50) { id active_tags { id } } }"  # 50 + 50 x 10
    assert await api.error_codes(wide) == ["QUERY_TOO_COMPLEX"]
    assert await api.data(wide.replace("page_size: 50", 'page_size: 50, ids: ["1", "2"]'))  # 22
    assert await api.data(wide.replace("page_size: 50", 'page_size: 50, id: "1"'))  # 11


async def test_an_unpaginated_list_costs_the_row_cap(api_with: MakeApi, world: World) -> None:
    api = await provider(api_with, world, max_query_cost=999, unpaginated_list_max_rows=1000)
    assert await api.error_codes("{ users(should_paginate: false) { id } }") == [
        "QUERY_TOO_COMPLEX"
    ]
    query = "query($p: Boolean) { users(should_paginate: $p) { id } }"
    assert await api.error_codes(query, {"p": False}) == ["QUERY_TOO_COMPLEX"]
    assert await api.data(query, {"p": True})
    # Lists that are whole unless asked otherwise (userGroups) cost the cap by default.
    assert await api.error_codes("{ userGroups { id } }") == ["QUERY_TOO_COMPLEX"]
    assert await api.data("{ userGroups(should_paginate: true) { id } }")


async def test_graphiql_introspection_passes_the_default_limits(
    api_with: MakeApi, world: World
) -> None:
    api = await provider(api_with, world)
    data = await api.data(get_introspection_query(descriptions=True))
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_counts_towards_the_cost(api_with: MakeApi, world: World) -> None:
    # __type 1 + fields 10 + type 10 + fields 100 = 121 (graphql-core refuses a third "fields")
    api = await provider(api_with, world, max_query_cost=120, query_cost_list_size=10)
    query = '{ __type(name: "User") { fields { type { fields { name } } } } }'
    assert await api.error_codes(query) == ["QUERY_TOO_COMPLEX"]
    api = await provider(api_with, world, max_query_cost=121, query_cost_list_size=10)
    assert await api.data(query)
