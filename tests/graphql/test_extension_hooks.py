"""Extension hooks entered from per-class answers (carebook.graphql.hooks).

The schema must run every kind of hook Strawberry runs (generator, async generator, coroutine
and plain function) at the same moments, in the same order, seeing the same errors, and must
not wrap hooks in new decorators for each request.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest.mock import patch

import strawberry
from strawberry.extensions import SchemaExtension

from carebook.graphql import hooks
from carebook.graphql.extensions import CarebookSchema


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("a resolver's fault")


def _extensions(log: list[str]) -> list[Any]:
    """Four extensions, one of each hook kind, writing what they see to ``log``."""

    class Generators(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            log.append("operation in")
            yield
            log.append("operation out")

        def on_parse(self) -> Iterator[None]:
            log.append("parse in")
            yield
            log.append("parse out")

    class AsyncGenerators(SchemaExtension):
        async def on_execute(self) -> AsyncIterator[None]:
            log.append("execute in")
            yield
            result = self.execution_context.result
            log.append(f"execute out, errors: {len(result.errors or []) if result else '-'}")

    class Coroutines(SchemaExtension):
        async def on_validate(self) -> None:  # type: ignore[override]
            log.append("validate (coroutine)")

    class Plain(SchemaExtension):
        def on_operation(self) -> None:  # type: ignore[override]
            log.append("operation (plain)")

        def on_execute(self) -> None:  # type: ignore[override]
            log.append("execute (plain)")

    return [Generators, AsyncGenerators, Coroutines, Plain]


DOCUMENTS = ["{ hello }", "{ broken }", "{ hello ", "{ nothing }"]


def _run(schema_class: type[strawberry.Schema], document: str) -> tuple[list[str], Any]:
    log: list[str] = []
    schema = schema_class(query=Query, extensions=_extensions(log))
    result = asyncio.run(schema.execute(document))
    # The number of errors, not their text: CarebookSchema hides a resolver's fault's.
    return log, (result.data, len(result.errors or []))


def test_every_kind_of_hook_runs_as_strawberry_runs_it() -> None:
    for document in DOCUMENTS:
        expected_log, expected = _run(strawberry.Schema, document)
        log, answer = _run(CarebookSchema, document)
        assert answer == expected, document
        assert log == expected_log, document
        assert "operation in" in log and "operation (plain)" in log


def test_hooks_are_not_wrapped_again_for_each_request() -> None:
    log: list[str] = []
    schema = CarebookSchema(query=Query, extensions=_extensions(log))
    assert not asyncio.run(schema.execute("{ hello }")).errors
    log.clear()

    def refused(*_: Any, **__: Any) -> Any:
        raise AssertionError("a hook was wrapped in a new decorator during a request")

    with (
        patch.object(contextlib, "contextmanager", refused),
        patch.object(contextlib, "asynccontextmanager", refused),
    ):
        result = asyncio.run(schema.execute("{ hello }"))
    assert not result.errors
    assert result.data == {"hello": "hi"}
    assert log[0] == "operation in" and "execute (plain)" in log


def test_a_stage_asks_no_extension_for_its_hook_after_the_first_request() -> None:
    """The schema keeps which of its extensions have each stage's hook: a request binds the
    hooks it runs and asks the other extensions nothing."""
    log: list[str] = []
    schema = CarebookSchema(query=Query, extensions=_extensions(log))
    assert not asyncio.run(schema.execute("{ hello }")).errors
    asked: list[str] = []
    real = hooks._maker

    def counted(cls: type, hook_name: str) -> Any:
        asked.append(hook_name)
        return real(cls, hook_name)

    log.clear()
    with patch.object(hooks, "_maker", counted):
        result = asyncio.run(schema.execute("{ hello }"))
    assert result.data == {"hello": "hi"} and not result.errors
    assert asked == []
    assert log[0] == "operation in" and "execute (plain)" in log  # every hook still ran
    other = CarebookSchema(query=Query, extensions=_extensions(log))  # its own plans
    with patch.object(hooks, "_maker", counted):
        assert not asyncio.run(other.execute("{ hello }")).errors
    assert len(asked) == 4 * 4  # four stages, four extensions: once each


def test_a_hook_switched_off_with_none_is_no_hook() -> None:
    """As in Strawberry: a subclass may turn its parent's hook off by setting it to None."""
    log: list[str] = []

    class Loud(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            log.append("loud")
            yield

    class Quiet(Loud):
        on_execute = None  # type: ignore[assignment]

    for schema_class in (strawberry.Schema, CarebookSchema):
        result = asyncio.run(schema_class(query=Query, extensions=[Quiet]).execute("{ hello }"))
        assert result.data == {"hello": "hi"} and not result.errors
    assert log == []


def test_a_class_made_per_request_is_not_kept() -> None:
    """The schema keeps its plans, so a class made for one schema's requests goes with that
    schema, even one whose hook calls super() (which refers to its class)."""

    def one_request() -> list[weakref.ref[type]]:
        class Fresh(SchemaExtension):
            def on_operation(self) -> Iterator[None]:
                yield

        class Inheriting(SchemaExtension):  # super(): its hook refers to its class
            def on_execute(self) -> Iterator[None]:
                yield from super().on_execute()  # type: ignore[misc]

        schema = CarebookSchema(query=Query, extensions=[Fresh, Inheriting])
        assert not asyncio.run(schema.execute("{ hello }")).errors
        return [weakref.ref(Fresh), weakref.ref(Inheriting)]

    made = one_request()
    gc.collect()
    assert [ref() for ref in made] == [None, None]
