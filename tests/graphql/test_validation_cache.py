"""The validation cache (carebook.graphql.extensions.CachedValidation) is keyed by a document's
text: a document already validated is not validated again, and its parsed tree is never hashed
(a DocumentNode's hash walks the whole tree: 27 µs for a 50-field query, on every request with
Strawberry's ValidationCache, cached or not)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from graphql.language.ast import DocumentNode
from strawberry.schema import schema as strawberry_schema
from tests.support.api import Api
from tests.support.world import World

from carebook.graphql.schema import build_schema


def _unique(document: str) -> str:
    return f"# {uuid.uuid4()}\n{document}"


def _unhashable(self: DocumentNode) -> int:
    raise AssertionError("a document was hashed")


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The documents graphql-core's validate() was given, from now on."""
    seen: list[object] = []
    original = strawberry_schema.validate

    def counting(schema: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(document)
        return original(schema, document, *args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting)
    return seen


async def test_a_document_is_validated_once_and_never_hashed(
    api: Api, world: World, validations: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = api.with_token(world.a.patient_token)
    query = _unique("{ currentUser { id first_name } }")
    monkeypatch.setattr(DocumentNode, "__hash__", _unhashable)
    first = await patient.data(query)
    again = await patient.data(query)
    assert first == again == {"currentUser": {"id": str(world.a.patient_id), "first_name": "Pat"}}
    assert len(validations) == 1


async def test_a_cached_invalid_document_gives_the_same_errors(
    api: Api, world: World, validations: list[object]
) -> None:
    patient = api.with_token(world.a.patient_token)
    query = _unique("{ currentUser { id no_such_field } }")
    first, again = (await patient.post(query))["errors"], (await patient.post(query))["errors"]
    assert first == again
    assert [e["extensions"]["code"] for e in first] == ["GRAPHQL_VALIDATION_FAILED"]
    assert len(validations) == 1


async def test_the_same_text_is_validated_for_each_schema(
    api: Api, world: World, validations: list[object]
) -> None:
    """The key holds the schema: a second schema (another mode, other limits) validates the
    text against itself, not with the first one's answer."""
    query = _unique("{ __typename }")
    patient = api.with_token(world.a.patient_token)
    await patient.data(query)
    other = build_schema(production=True)
    result = await other.execute(query)
    assert result.errors is None and result.data == {"__typename": "Query"}
    assert len(validations) == 2
