"""Plain leaf fields read in place (carebook.graphql.execution).

The short way must answer exactly what graphql-core's own does, errors and nulls included (an
unusual value takes graphql-core's way for that field), and the schema must use it: a page of
users resolves none of its plain fields through graphql-core's per-field machinery.
"""

from __future__ import annotations

from enum import Enum
from typing import Any
from unittest.mock import patch

import strawberry
from strawberry.types.field import StrawberryField

from carebook.graphql.execution import CarebookExecutionContext
from carebook.graphql.schema import build_schema


@strawberry.enum
class Mood(Enum):
    CALM = "calm"


def _raises(_: Any) -> str:
    raise ValueError("kept out of the answer")


@strawberry.type
class Thing:
    name: str
    nickname: str | None
    mood: Mood
    identifier: strawberry.ID
    count: int
    ratio: float
    flag: bool
    # Wrong on purpose: null in a non-null field, and a property that raises.
    missing: str = strawberry.field(default=property(lambda _: None))  # type: ignore[arg-type]
    broken: str | None = strawberry.field(default=property(_raises))  # type: ignore[arg-type]
    not_a_string: str = strawberry.field(default=property(lambda _: object()))  # type: ignore[arg-type]

    def __init__(self, name: str) -> None:
        # By hand, as graphql/users/types.py's User: the properties above stay properties.
        self.name, self.nickname, self.mood = name, None if name == "b" else name, Mood.CALM
        self.identifier, self.count, self.ratio, self.flag = strawberry.ID("7"), 3, 0.5, True

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.name.upper() * times


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Thing(name) for name in ("a", "b")]


DOCUMENTS = [
    "{ things { name nickname mood identifier count ratio flag __typename shout(times: 2) } }",
    "{ things { n: name ...F ... on Thing { flag } } } fragment F on Thing { name count }",
    "{ things { name missing } }",
    "{ things { name broken } }",
    "{ things { name notAString: not_a_string } }",
]


def test_answers_and_errors_are_graphql_cores_own() -> None:
    config = strawberry.schema.config.StrawberryConfig(auto_camel_case=False)
    theirs = strawberry.Schema(query=Query, config=config)
    ours = strawberry.Schema(
        query=Query, config=config, execution_context_class=CarebookExecutionContext
    )
    for document in DOCUMENTS:
        expected, got = theirs.execute_sync(document), ours.execute_sync(document)
        # Each error (if any) is a Thing field's own, not the list's.
        assert all(len(e.path or ()) == 3 for e in expected.errors or []), document
        assert got.data == expected.data, document
        assert [e.formatted for e in got.errors or []] == [
            e.formatted for e in expected.errors or []
        ], document


def test_plain_leaf_fields_skip_graphql_cores_per_field_machinery() -> None:
    """Only fields with a resolver of their own (and __typename) go through execute_field; the
    carebook schema executes with this context (graphql/users/types.py's plain User fields)."""
    config = strawberry.schema.config.StrawberryConfig(auto_camel_case=False)
    ours = strawberry.Schema(
        query=Query, config=config, execution_context_class=CarebookExecutionContext
    )
    executed: list[str] = []
    original = CarebookExecutionContext.execute_field

    def counting(self: Any, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        executed.append(f"{parent_type.name}.{details[0].node.name.value}")
        return original(self, parent_type, source, details, *rest)

    with patch.object(CarebookExecutionContext, "execute_field", counting):
        result = ours.execute_sync(DOCUMENTS[0])
    assert not result.errors
    assert executed == ["Query.things", *(["Thing.__typename", "Thing.shout"] * 2)]
    assert build_schema().execution_context_class is CarebookExecutionContext


def test_plain_fields_are_read_without_strawberrys_get_result() -> None:
    """With Strawberry's default resolver, a plain field is read by its Python name directly:
    its ``get_result`` wrapper (a third of a plain field's cost) is never called for one."""
    config = strawberry.schema.config.StrawberryConfig(auto_camel_case=False)
    ours = strawberry.Schema(
        query=Query, config=config, execution_context_class=CarebookExecutionContext
    )
    plain_calls: list[str] = []
    original = StrawberryField.get_result

    def counting(self: StrawberryField, *args: Any, **kwargs: Any) -> Any:
        if self.base_resolver is None:
            plain_calls.append(self.python_name)
        return original(self, *args, **kwargs)

    with patch.object(StrawberryField, "get_result", counting):
        result = ours.execute_sync("{ things { name count flag mood identifier ratio } }")
    assert not result.errors
    assert result.data == {
        "things": [
            {"name": n, "count": 3, "flag": True, "mood": "CALM", "identifier": "7", "ratio": 0.5}
            for n in ("a", "b")
        ]
    }
    assert plain_calls == []


def test_a_default_resolver_of_the_schemas_own_is_still_used() -> None:
    """A schema whose default resolver is not ``getattr`` gets its fields through it."""

    def shouting(source: Any, name: str) -> Any:
        value = getattr(source, name)
        return value.upper() if isinstance(value, str) else value

    config = strawberry.schema.config.StrawberryConfig(
        auto_camel_case=False, default_resolver=shouting
    )
    ours = strawberry.Schema(
        query=Query, config=config, execution_context_class=CarebookExecutionContext
    )
    result = ours.execute_sync("{ things { name count } }")
    assert not result.errors
    assert result.data == {"things": [{"name": "A", "count": 3}, {"name": "B", "count": 3}]}


class Deny(strawberry.BasePermission):
    """Refuses, and counts its checks (it reads the request's context, as real ones do)."""

    message = "not for you"
    checks: list[Any] = []

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        Deny.checks.append(getattr(info, "context", None))
        return False


@strawberry.type
class Guarded:
    name: str
    secret: str = strawberry.field(permission_classes=[Deny])


@strawberry.type
class GuardedQuery:
    @strawberry.field
    def guarded(self) -> list[Guarded]:
        return [Guarded(name="a", secret="s3cret"), Guarded(name="b", secret="s3cret")]


def test_a_plain_field_with_permission_classes_keeps_its_check() -> None:
    """A field without a resolver but with permission classes is not read in place: its
    permission runs as in Strawberry's own execution (as often, with the request's context)."""
    config = strawberry.schema.config.StrawberryConfig(auto_camel_case=False)
    theirs = strawberry.Schema(query=GuardedQuery, config=config)
    ours = strawberry.Schema(
        query=GuardedQuery, config=config, execution_context_class=CarebookExecutionContext
    )
    answers = []
    for schema in (theirs, ours):
        Deny.checks.clear()
        result = schema.execute_sync("{ guarded { name secret } }", context_value="context")
        answers.append((result.data, [e.message for e in result.errors or []], Deny.checks[:]))
    assert answers[1] == answers[0]
    assert answers[1][1] == ["not for you"] and answers[1][2] == ["context"]
