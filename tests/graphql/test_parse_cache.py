"""The parse cache keeps lightened documents (carebook.graphql.extensions.lighten): no Token,
one Location per span, and the same error ``locations`` for a client as graphql-core's own
parse gives, on the first request of a document and on the cached one after it."""

from __future__ import annotations

import gc
import uuid
from typing import Any

from graphql import parse
from graphql.language.ast import FieldNode, Node, OperationDefinitionNode, Token
from tests.support.api import Api
from tests.support.world import World

from carebook.graphql.extensions import CachedParsing, parse_light

WIDE = (
    "query Wide($id: ID) {\n"
    + "".join(
        f"  f{i}: user(id: $id) {{ id first_name ... on User @include(if: true) {{ email }} }}\n"
        for i in range(50)
    )
    + '  tags(ids: ["1", "2"], typed: {a: [1, 2.5, null, ENUM, "s", """block"""]}) { id }\n}'
)


def _reachable(root: object) -> list[object]:
    """Every object reachable from ``root`` through the references the collector follows."""
    seen = {id(root)}
    found = [root]
    stack = [root]
    while stack:
        for referent in gc.get_referents(stack.pop()):
            if id(referent) not in seen and not isinstance(referent, type):
                seen.add(id(referent))
                found.append(referent)
                stack.append(referent)
    return found


def _tokens() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is Token)


def test_a_cached_document_holds_no_token() -> None:
    document = CachedParsing().cached_parse_document(WIDE)
    assert document is CachedParsing().cached_parse_document(WIDE)  # cached, for every request
    reached = _reachable(document)
    assert sum(1 for o in reached if isinstance(o, Node)) > 500
    assert [o for o in reached if isinstance(o, Token)] == []


def test_the_tokens_are_freed_at_once() -> None:
    """Not left as a chain of cycles for a full collection to find: with the collector off,
    no Token outlives the parse."""
    gc.collect()
    gc.disable()
    try:
        before = _tokens()
        document = parse_light(WIDE + f"\n# {uuid.uuid4()}")
        assert _tokens() == before
        kept = parse(WIDE)
        assert _tokens() > before  # the check would see them: graphql-core's parse keeps them
    finally:
        gc.enable()
    del document, kept


def test_the_nodes_and_their_spans_are_graphql_cores() -> None:
    ours, theirs = parse_light(WIDE), parse(WIDE)
    assert ours == theirs  # every node, and every Location's start and end (Location.__eq__)
    spans = [(o.loc.start, o.loc.end, o.loc.source.body) for o in _reachable(ours) if _has_loc(o)]
    assert all(body == WIDE for _, _, body in spans) and len(spans) > 500
    # A leaf field and its name span the same text: they share one Location.
    operation = ours.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    user = operation.selection_set.selections[0]
    assert isinstance(user, FieldNode) and user.selection_set
    leaf = user.selection_set.selections[0]
    assert isinstance(leaf, FieldNode) and leaf.name.value == "id"
    assert leaf.loc is leaf.name.loc
    assert user.loc is not user.name.loc


def test_a_document_parsed_without_locations_is_left_as_it_is() -> None:
    assert parse_light(WIDE, no_location=True) == parse(WIDE, no_location=True)


def _has_loc(o: object) -> bool:
    return isinstance(o, Node) and o.loc is not None


def _unique(document: str) -> str:
    """A text no earlier request sent: the first request parses it, the second hits the cache."""
    return f"# {uuid.uuid4()}\n{document}"


async def _errors(api: Api, query: str) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = (await api.post(query))["errors"]
    return errors


async def test_validation_errors_point_at_the_same_place_when_cached(
    api: Api, world: World
) -> None:
    patient = api.with_token(world.a.patient_token)
    query = _unique("query Errors {\n  currentUser(nope: 1) {\n    id\n    no_such_field\n  }\n}")
    first, cached = await _errors(patient, query), await _errors(patient, query)
    assert first == cached
    assert [e["locations"] for e in first] == [
        [{"line": 3, "column": 15}],  # nope: 1 (line 1 is the unique comment)
        [{"line": 5, "column": 5}],  # no_such_field, whose Location its name shares
    ], first
    assert {e["extensions"]["code"] for e in first} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_execution_errors_point_at_the_same_place_when_cached(api: Api, world: World) -> None:
    query = _unique("query Anonymous {\n  __typename\n    currentUser { id }\n}")
    first, cached = await _errors(api, query), await _errors(api, query)
    assert first == cached
    assert [(e["extensions"]["code"], e["locations"], e["path"]) for e in first] == [
        ("UNAUTHENTICATED", [{"line": 4, "column": 5}], ["currentUser"])
    ], first
