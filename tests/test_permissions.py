"""Every root field declares who may call it, and protected fields refuse anonymous callers.

The documents are built from the live schema, so a new root field is covered without editing
this file.
"""

from __future__ import annotations

from graphql import GraphQLField, parse, validate

from carebook.graphql.permissions import ROOT_PERMISSIONS, AllowAnyone, IsStaff
from tests.support.api import Api
from tests.support.schema_walk import (
    SCHEMA,
    document,
    permission_classes,
    root_fields,
)
from tests.support.world import World

# What the contract opens to anonymous callers: the seed's unauthenticated operations (signUp,
# completeCheckout), signing in, and setting or resetting a password from an emailed token.
MAY_BE_ANONYMOUS = {
    "signUp",
    "signIn",
    "completeCheckout",
    "createClientViaForm",
    "resetPassword",
    "setPassword",
    "validateResetPasswordToken",
    "validateSignupToken",
}

# What the seed says is "called from an authenticated provider/staff account" (when present).
SEED_STAFF_ONLY = {
    "createClient",
    "updateClient",
    "bulkUpdateClients",
    "users",
    "usersCount",
    "createGroup",
    "updateUserGroup",
    "deleteUserGroup",
    "userGroups",
    "userGroupsCount",
    "createTag",
    "bulkApply",
}


def fields_with(permission: type) -> list[tuple[str, str, GraphQLField]]:
    """Root fields declaring the given permission class."""
    return [f for f in root_fields() if permission in permission_classes(f[2])]


def test_every_root_field_declares_a_root_permission() -> None:
    fields = root_fields()
    assert {name for _, name, _ in fields} >= {"user", "signUp", "signIn", "createClient"}
    undeclared = [
        f"{operation} {name}"
        for operation, name, field in fields
        if not any(p in ROOT_PERMISSIONS for p in permission_classes(field))
    ]
    assert undeclared == []


def test_only_the_contracts_operations_are_open_to_anonymous_callers() -> None:
    open_fields = {name for _, name, _ in fields_with(AllowAnyone)}
    assert {"signUp", "signIn"} <= open_fields
    assert open_fields <= MAY_BE_ANONYMOUS


def test_open_fields_declare_nothing_stricter() -> None:
    for _, name, field in fields_with(AllowAnyone):
        assert permission_classes(field) == [AllowAnyone], name


def test_the_seeds_staff_operations_are_staff_only() -> None:
    staff_only = {name for _, name, _ in fields_with(IsStaff)}
    present = SEED_STAFF_ONLY & {name for _, name, _ in root_fields()}
    assert "createClient" in present
    assert present - staff_only == set()


def test_generated_documents_are_valid() -> None:
    for operation, name, field in root_fields():
        query = document(operation, name, field)
        assert validate(SCHEMA._schema, parse(query)) == [], query


async def test_protected_root_fields_refuse_anonymous_callers(api: Api) -> None:
    protected = [f for f in root_fields() if AllowAnyone not in permission_classes(f[2])]
    assert len(protected) >= 2
    for operation, name, field in protected:
        query = document(operation, name, field)
        body = await api.post(query)
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        assert codes == ["UNAUTHENTICATED"], (query, body)
        assert (body.get("data") or {}).get(name) is None, (query, body)


async def test_staff_only_root_fields_refuse_patients(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    staff_only = fields_with(IsStaff)
    assert staff_only
    for operation, name, field in staff_only:
        query = document(operation, name, field)
        assert await patient.error_codes(query) == ["FORBIDDEN"], query
