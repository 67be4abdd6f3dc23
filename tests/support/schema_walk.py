"""Walking the served schema: its root fields and the smallest valid documents calling them.

Shared by the tests that cover every root field without naming any (tests/test_permissions.py,
tests/security/test_isolation.py).
"""

from __future__ import annotations

from collections.abc import Iterator

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
