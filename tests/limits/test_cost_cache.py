"""A document's cost estimated once for all the requests it would cost the same for, and anew
whenever a variable changes what the estimate reads (graphql/limits/cost_cache.py)."""

from __future__ import annotations

import functools
import random
from typing import Any

import pytest
from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode, parse
from tests.limits.conftest import MakeApi
from tests.support.api import Api
from tests.support.world import World

from carebook.config import Settings
from carebook.graphql.limits import cost
from carebook.graphql.limits.cost import CostMeter, ListSizes, variables_with_defaults
from carebook.graphql.limits.cost_cache import CostCache, costed_variables
from carebook.graphql.limits.extension import QueryLimits
from carebook.graphql.schema import build_schema

NARROWED = """query($id: ID, $ids: [ID], $n: Int, $k: String) {
  users(id: $id, ids: $ids, page_size: $n, keywords: $k) { id active_tags { id } } }"""


@pytest.fixture
def estimates(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every estimate CostMeter makes, in order."""
    made: list[int] = []
    original = cost.CostMeter.operation

    def counted(self: cost.CostMeter, operation: Any) -> int:
        made.append(original(self, operation))
        return made[-1]

    monkeypatch.setattr(cost.CostMeter, "operation", counted)
    return made


async def _provider(api_with: MakeApi, world: World) -> Api:
    # users(page_size: 50) with ten tags each: 550; narrowed to one id: 11; to two ids: 22.
    api = await api_with(max_query_cost=30, nested_list_max_rows=10)
    return api.with_key(world.a.provider.api_key)


async def test_the_same_document_for_other_patients_is_estimated_once(
    api_with: MakeApi, world: World, estimates: list[int]
) -> None:
    api = await _provider(api_with, world)
    for patient in ("1", "2", str(world.a.patient_id)):
        for keywords in ("ada", "bob"):  # named in no costed argument: no new estimate
            await api.data(NARROWED, {"id": patient, "n": 50, "k": keywords})
    assert estimates == [11]


async def test_each_reading_that_changes_the_cost_is_estimated_on_its_own(
    api_with: MakeApi, world: World, estimates: list[int]
) -> None:
    api = await _provider(api_with, world)
    refused = ["QUERY_TOO_COMPLEX"]
    assert await api.data(NARROWED, {"ids": ["1", "2"], "n": 50})  # 22
    assert await api.error_codes(NARROWED, {"n": 50}) == refused  # 550
    assert await api.error_codes(NARROWED, {"ids": ["1", "2", "3"], "n": 50}) == refused  # 33
    assert await api.data(NARROWED, {"ids": ["7", "8"], "n": 50})  # 22, as the first
    assert await api.data(NARROWED, {"n": 2})  # 22: another page size
    assert await api.error_codes(NARROWED, {"n": 3}) == refused  # 33
    assert await api.error_codes(NARROWED, {"n": 50, "id": None}) == refused  # null: no id
    assert estimates == [22, 550, 33, 22, 33, 550]


async def test_a_schema_with_other_limits_has_its_own_estimates(
    api_with: MakeApi, world: World, estimates: list[int]
) -> None:
    strict = (await api_with(max_query_cost=30, nested_list_max_rows=10)).with_key(
        world.a.provider.api_key
    )
    lenient = (await api_with(max_query_cost=30, nested_list_max_rows=1)).with_key(
        world.a.provider.api_key
    )
    assert await strict.error_codes(NARROWED, {"n": 5}) == ["QUERY_TOO_COMPLEX"]  # 5 + 50
    assert await lenient.data(NARROWED, {"n": 5})  # 5 + 5
    assert estimates == [55, 10]


def test_only_variables_in_costed_arguments_key_an_estimate() -> None:
    document = parse(
        """query($a: ID, $b: ID, $c: [ID], $k: String, $p: Int, $q: Boolean, $r: ID) {
          users(keywords: $k, page_size: $p, ids: [$b], should_paginate: $q) { id }
          user(id: $a) { id tags(ids: $c) { id } }
          other: user(id: $b) { id }
          third: user(id: $r) { id } again: users(page_size: $r) { id } }"""
    )
    assert costed_variables(document) == (
        ("a", "id"),  # the whole value of an id: whether one is given
        ("b", None),  # inside a list as well: its whole value
        ("c", "ids"),  # the whole value of ids: the list's length
        ("p", "page_size"),
        ("q", "should_paginate"),
        ("r", None),  # the whole value of two kinds of argument: its whole value
    )


def test_what_the_cache_keeps_is_bounded() -> None:
    """Few documents and estimates, each key small: a value too large to key is estimated
    afresh and not kept, and a dropped document's estimates are never found again."""
    cache = CostCache(documents=2, estimates=3)
    made: list[str] = []

    def cost(query: str, variables: dict[str, Any]) -> int:
        def estimate() -> int:
            made.append(query)
            return len(made)

        return cache.cost(query, parse(query), None, variables, estimate)

    q1, q2, q3 = (
        f"query($x: ID) {{ users(ids: [$x], page_size: {n}) {{ id }} }}" for n in (1, 2, 3)
    )
    assert cost(q1, {"x": "a"}) == cost(q1, {"x": "a"}) == 1  # kept
    assert cost(q1, {"x": "b" * 500}) == 2  # too long to key: not kept
    assert cost(q1, {"x": "b" * 500}) == 3
    assert cost(q1, {"x": [[["deep"] * 20] * 20]}) == 4  # too many parts: not kept
    assert cost(q1, {"x": [[["deep"] * 20] * 20]}) == 5
    assert cost(q2, {"x": "a"}) == 6
    assert cost(q3, {"x": "a"}) == 7  # two documents kept: q1 dropped
    assert cost(q1, {"x": "a"}) == 8  # estimated again under a new number
    assert len(cache._costs) == 3 and len(cache._documents) == 2


# Documents whose variables reach the costed arguments every way they can: as an argument's
# whole value, inside a list literal, with a default, and as two kinds of argument at once.
_DOCUMENTS = (
    """query($id: ID, $ids: [ID], $n: Int, $p: Boolean) {
      users(id: $id, ids: $ids, page_size: $n, should_paginate: $p) { id active_tags { id } } }""",
    """query($x: ID, $n: Int = 3) {
      users(ids: [$x, "1"], page_size: $n) { id } user(id: $x) { id } }""",
    """query($v: Int, $w: Boolean = true) {
      users(page_size: $v, should_paginate: $w) { id providers { id } }
      tags(page_size: $v) { id } }""",
)
_VALUES = (
    None,
    "1",
    "abc",
    1,
    0,
    -5,
    7,
    True,
    False,
    2.5,
    [],
    ["1"],
    ["1", "2", "3"],
    [None],
    {"a": 1},
)
_ABSENT = object()


def _meter(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    sizes: ListSizes,
    variables: dict[str, Any],
) -> int:
    """What DocumentLimits estimates for a request, without the cache."""
    filled = variables_with_defaults(operation, variables)
    return CostMeter(schema, document, filled, sizes).operation(operation)


def test_a_kept_estimate_is_always_the_one_the_meter_makes() -> None:
    """Whatever the variables (absent, null, of any kind), the cache answers exactly what the
    meter answers for that very request: two requests sharing a key never cost differently."""
    schema = build_schema(limits=QueryLimits.from_settings(Settings()))._schema
    sizes = ListSizes(default=10, unpaginated=1000, nested=100, payload=1000)
    rng = random.Random(28)
    for query in _DOCUMENTS:
        document = parse(query)
        [operation] = document.definitions
        assert isinstance(operation, OperationDefinitionNode)
        names = [d.variable.name.value for d in operation.variable_definitions]
        cache = CostCache()
        for _ in range(1500):
            picked = {name: rng.choice((_ABSENT, *_VALUES)) for name in names}
            variables = {k: v for k, v in picked.items() if v is not _ABSENT}

            estimate = functools.partial(_meter, schema, document, operation, sizes, variables)
            assert cache.cost(query, document, None, variables, estimate) == estimate(), variables
        assert 1 < len(cache._costs) < 1500  # estimates were shared, and not all alike
