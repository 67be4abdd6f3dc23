"""graphql-core's executor with a short way for plain leaf fields (issue 28, lists).

graphql-core runs every field of every object through the same machinery: a path, a resolve
info, the resolver, then ``complete_value``'s checks, even for a scalar read from an attribute.
A page of ten users with eight fields is eighty of those, about a quarter of the request's CPU
(cProfile of the ``users`` first page, docs/performance.md, "Lists near their bare endpoints").

Here a field without a resolver, permission classes or field extensions (so no arguments or
info: Strawberry marks its resolver ``_is_default``) and whose type is a scalar or enum is read
and serialized in place (a field with permission classes takes graphql-core's way, which
runs them once with a real ``Info``). Anything
unusual (an exception, null in a non-null field, a value the scalar refuses, an awaitable)
goes through graphql-core's own ``execute_field`` for that field, so errors, paths and nulls
come out exactly as before. Every other field takes graphql-core's way unchanged.

Plain fields skip graphql-core's middleware (fair-share pacing, limits/fair_share.py): the
pacing only ever waits around an awaitable result, which a plain attribute never is.

The executor's helpers for resolvers (``async_helpers``) are made without a reference cycle:
graphql-core's are its own bound methods, so every executor was a cycle, and with it the
request's context, request and answer stayed alive until a collection found them (see
:class:`CarebookExecutionContext`).
"""

from __future__ import annotations

import functools
import operator
import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfoHelpers,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# The extension key under which a field's plan is kept on its GraphQLField (built once).
_PLAN = "carebook_plain_leaf"
# (reader of the source's value, leaf type, non-null), or False: not a plain leaf field.
_Plan = tuple[Any, GraphQLLeafType, bool] | bool
# Values a plain field hands over that are certainly neither awaitable nor an exception.
_SIMPLE = frozenset((str, int, bool, float))


def _plan(field: GraphQLField) -> _Plan:
    """How to read ``field`` in place, or False (computed once per field of the schema)."""
    plan: _Plan | None = field.extensions.get(_PLAN)
    if plan is not None:
        return plan
    plan = False
    resolve = field.resolve
    if resolve is not None and getattr(resolve, "_is_default", False) and not field.args:
        field_type = field.type
        non_null = isinstance(field_type, GraphQLNonNull)
        named = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        reader = _reader(field, resolve)
        if is_leaf_type(named) and reader is not None:
            plan = (reader, named, non_null)
    field.extensions[_PLAN] = plan
    return plan


def _reader(field: GraphQLField, resolve: Any) -> Any:
    """A one-argument reader of ``field``'s value from its source object, or None when the
    field must take graphql-core's way.

    Strawberry's default resolver goes through its field's ``get_result`` (a wrapper, two
    property look-ups, then ``getattr``): about a third of a plain field's cost, for each field
    of each row of a page. With Strawberry's own default (``getattr`` by the Python name) the
    attribute is read directly; any other default resolver is called as Strawberry calls it.
    A field with permission classes or field extensions but no resolver is marked default
    too, yet its resolver runs them with a real ``Info``: it is never read in place.
    """
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if (
        type(definition).get_result is StrawberryField.get_result
        and definition.default_resolver is getattr
    ):
        return operator.attrgetter(definition.python_name)
    return functools.partial(_through_strawberry, resolve)


def _through_strawberry(resolve: Any, source: Any) -> Any:
    return resolve(source, None)


class CarebookExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, reading plain leaf fields in place (module docstring).

    Its ``async_helpers`` hold it weakly. graphql-core's are its bound methods, a cycle that
    outlived the request: under 64 clients nearly every request was still in flight at two
    young collections, so it went to the oldest generation with everything it reached (about
    90 objects, its Context, the Starlette request and answer) and waited there for the
    timed full collection, which then took 0.8-0.9 s a worker (docs/performance.md, "Requests
    freed when they end"). A helper is only called by a resolver the execution is running, so
    the executor is alive whenever one is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _helpers(weakref.ref(self))

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        fields = parent_type.fields
        try:
            for response_name, field_details_list in grouped_field_set.items():
                field = fields.get(field_details_list[0].node.name.value)
                plan = _plan(field) if field is not None else False
                if plan:
                    resolve, leaf, non_null = plan  # type: ignore[misc]
                    value = _read(resolve, leaf, non_null, source_value, is_awaitable)
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        # As graphql-core's: the awaitable fields resolved together.
        return self._gather(results, awaitable_fields)

    async def _gather(self, results: dict[str, Any], names: list[str]) -> dict[str, Any]:
        if len(names) == 1:
            results[names[0]] = await results[names[0]]
            return results
        values = await gather_with_cancel(*(results[name] for name in names))
        results.update(zip(names, values, strict=True))
        return results


def _helpers(executor: weakref.ref[CarebookExecutionContext]) -> GraphQLResolveInfoHelpers:
    """graphql-core's helpers for resolvers, without a strong reference to the executor."""

    def track(values: Sequence[Any]) -> None:
        live = executor()
        if live is not None:
            live.track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=_gather_async_work, track=track)


def _gather_async_work(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    """As graphql-core's ``Executor.gather_async_work``, which uses nothing of its executor."""
    return gather_with_cancel(*values)


def _read(
    resolve: Any, leaf: GraphQLLeafType, non_null: bool, source: Any, is_awaitable: Any
) -> Any:
    """The serialized value of a plain leaf field, or Undefined when graphql-core's own way
    must decide (an error, null in a non-null field, an unusual value)."""
    try:
        value = resolve(source)
    except Exception:  # graphql-core's way raises it again and places the error
        return Undefined
    if value is None or value is Undefined:
        return Undefined if non_null else None
    if type(value) not in _SIMPLE and (isinstance(value, Exception) or is_awaitable(value)):
        return Undefined
    try:
        serialized = leaf.serialize(value)
    except Exception:
        return Undefined
    return Undefined if serialized is None else serialized
