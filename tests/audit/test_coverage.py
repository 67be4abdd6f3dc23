"""No field can hand out a patient without recording it: the schema walk.

Every field whose type is User or [User] must have an audited resolver. A field of a plain
payload (no resolver of its own) counts when every field returning that payload is audited,
since the audited resolver records what the payload holds.
"""

from __future__ import annotations

from graphql import GraphQLField, GraphQLObjectType, get_named_type
from strawberry.types.field import StrawberryField

from carebook.graphql.audit.recording import MARK
from tests.support.schema_walk import SCHEMA

PATIENT_TYPES = {"User"}


def _fields() -> list[tuple[str, str, GraphQLField]]:
    return [
        (type_name, field_name, field)
        for type_name, type_ in SCHEMA._schema.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not type_name.startswith("__")
        for field_name, field in type_.fields.items()
    ]


def _definition(field: GraphQLField) -> StrawberryField:
    definition = (field.extensions or {}).get("strawberry-definition")
    assert isinstance(definition, StrawberryField)
    return definition


def _is_audited(field: GraphQLField) -> bool:
    resolver = _definition(field).base_resolver
    return resolver is not None and getattr(resolver.wrapped_func, MARK, False)


def _has_resolver(field: GraphQLField) -> bool:
    return _definition(field).base_resolver is not None


def unaudited_fields() -> list[str]:
    """Fields that can return a patient and are not audited."""
    fields = _fields()
    returning: dict[str, list[GraphQLField]] = {}
    for _, _, field in fields:
        returning.setdefault(get_named_type(field.type).name, []).append(field)
    missing = []
    for type_name, field_name, field in fields:
        if get_named_type(field.type).name not in PATIENT_TYPES or _is_audited(field):
            continue
        parents = returning.get(type_name, [])
        if not _has_resolver(field) and parents and all(_is_audited(p) for p in parents):
            continue  # a payload attribute, recorded by the resolver returning the payload
        missing.append(f"{type_name}.{field_name}")
    return missing


def test_every_field_returning_a_patient_is_audited() -> None:
    assert unaudited_fields() == []


def test_the_walk_sees_the_patient_fields() -> None:
    """The walk is not vacuous: it finds the known patient fields, nested ones included."""
    names = {f"{t}.{n}" for t, n, f in _fields() if get_named_type(f.type).name == "User"}
    assert {"Query.user", "Query.users", "UserGroup.users", "createClientPayload.user"} <= names
    assert all(_is_audited(f) for t, n, f in _fields() if f"{t}.{n}" == "Query.users")
