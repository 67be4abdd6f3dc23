"""Walking the served schema: its root fields and the smallest valid documents calling them.

Shared by the tests that cover every root field without naming any (tests/test_permissions.py,
tests/security/test_isolation.py), and by the walks of every nested path below them
(tests/security/test_patient_paths.py, tests/audit/test_coverage.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_composite_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from strawberry.types.field import StrawberryField

from carebook.graphql.schema import build_schema

SCHEMA = build_schema()


def root_types() -> Iterator[tuple[str, GraphQLObjectType]]:
    """The served root types: ("query" | "mutation" | "subscription", type)."""
    graphql_schema = SCHEMA._schema
    roots = {
        "query": graphql_schema.query_type,
        "mutation": graphql_schema.mutation_type,
        "subscription": graphql_schema.subscription_type,
    }
    for operation, root in roots.items():
        if root is not None:
            yield operation, root


def root_fields() -> list[tuple[str, str, GraphQLField]]:
    """Every served root field: (operation, name, graphql-core field)."""
    return [
        (operation, name, field)
        for operation, root in root_types()
        for name, field in root.fields.items()
    ]


def permission_classes(field: GraphQLField) -> list[type]:
    """The permission classes declared on the Strawberry field behind a served field."""
    definition = (field.extensions or {}).get("strawberry-definition")
    assert isinstance(definition, StrawberryField), field
    return list(definition.permission_classes)


def is_required(type_: GraphQLInputType, default_value: object) -> bool:
    """Whether an argument or input field must be given."""
    return isinstance(type_, GraphQLNonNull) and default_value is Undefined


def literal(type_: GraphQLInputType) -> str:
    """A valid literal of an input type; input objects get their required fields only."""
    if isinstance(type_, GraphQLNonNull):
        return literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return f"[{literal(type_.of_type)}]"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        fields = [
            f"{name}: {literal(field.type)}"
            for name, field in type_.fields.items()
            if is_required(field.type, field.default_value)
        ]
        return "{" + ", ".join(fields) + "}"
    return {"Int": "1", "Float": "1.5", "Boolean": "false"}.get(type_.name, '"1"')


def document(operation: str, name: str, field: GraphQLField) -> str:
    """The smallest valid document calling one root field."""
    required = [
        f"{arg_name}: {literal(arg.type)}"
        for arg_name, arg in field.args.items()
        if is_required(arg.type, arg.default_value)
    ]
    arguments = f"({', '.join(required)})" if required else ""
    selection = " { __typename }" if is_composite_type(get_named_type(field.type)) else ""
    return f"{operation} {{ {name}{arguments}{selection} }}"


# A path below a root field: the names of the object fields followed, in order.
FieldPath = tuple[str, ...]


def _object_fields(type_: Any) -> Iterator[tuple[str, GraphQLField]]:
    """The fields of an object type that lead to objects and need no argument."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        return
    for name, field in named.fields.items():
        needs_argument = any(is_required(a.type, a.default_value) for a in field.args.values())
        if isinstance(get_named_type(field.type), GraphQLObjectType) and not needs_argument:
            yield name, field


def object_paths(
    type_: Any, depth: int, _edges: frozenset[tuple[str, str]] = frozenset()
) -> Iterator[FieldPath]:
    """Every path of object fields below ``type_``, ``depth`` fields deep at most, that cannot be
    made longer; a path follows each (type, field) once, so cycles (User.dietitian) are walked
    once around. A type without object fields gives the empty path."""
    named = get_named_type(type_)
    longer = False
    if depth > 0:
        for name, field in _object_fields(named):
            edge = (named.name, name)
            if edge in _edges:
                continue
            longer = True
            for rest in object_paths(field.type, depth - 1, _edges | {edge}):
                yield (name, *rest)
    if not longer:
        yield ()


def path_selection(type_: Any, path: FieldPath) -> str:
    """The selection of every scalar of each object along ``path`` (and ``path``'s next field)."""
    return paths_selection(type_, [path])


def paths_selection(type_: Any, paths: list[FieldPath]) -> str:
    """One selection holding every path of ``paths``: the union of their path_selection()s, so
    that an answer to it without errors holds the answer to each of them (GraphQL merges the
    fields of one name)."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    assert isinstance(named, GraphQLObjectType), named
    parts = ["__typename"]
    for name, field in named.fields.items():
        needs_argument = any(is_required(a.type, a.default_value) for a in field.args.values())
        if is_leaf_type(get_named_type(field.type)) and not needs_argument:
            parts.append(name)
    below: dict[str, list[FieldPath]] = {}
    for path in paths:
        if path:
            below.setdefault(path[0], []).append(path[1:])
    for name, rests in below.items():
        parts.append(f"{name} {paths_selection(named.fields[name].type, rests)}")
    return "{ " + " ".join(parts) + " }"
