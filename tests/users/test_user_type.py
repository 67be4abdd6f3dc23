"""The GraphQL User object: plain fields are attributes over the row, not resolvers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from strawberry.types.base import get_object_definition

from carebook.graphql.users.types import User
from carebook.users.models import Role
from carebook.users.models import User as UserRow

# Fields that are plain reads of the row: they must stay resolver-free (Strawberry's fast path),
# since a page of users serializes each of them once per user.
PLAIN = {
    "id",
    "first_name",
    "last_name",
    "email",
    "phone_number",
    "dob",
    "active",
    "user_group_id",
    "dietitian_id",
    "created_at",
}


def _row() -> UserRow:
    return UserRow(
        id=42,
        organization_id=1,
        role=Role.PATIENT,
        first_name="José",
        last_name="García",
        legal_name=None,
        email="jose@example.com",
        dob=date(2002, 1, 1),
        active=True,
        archived_at=None,
        user_group_id=7,
        dietitian_id=None,
        password_hash=None,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def test_plain_fields_have_no_resolver() -> None:
    definition = get_object_definition(User, strict=True)
    fields = {field.python_name: field for field in definition.fields}
    assert fields.keys() >= PLAIN
    assert [name for name in sorted(PLAIN) if fields[name].base_resolver is not None] == []
    # Fields that need the request (loaders, the caller) keep their resolvers.
    assert fields["dietitian"].base_resolver is not None


def test_plain_fields_read_the_row_when_asked() -> None:
    row = _row()
    user = User(row=row)
    assert (user.id, user.first_name, user.dob, user.user_group_id) == (
        "42",
        "José",
        "2002-01-01",
        "7",
    )
    assert (user.full_name, user.full_legal_name, user.dietitian_id) == (
        "José García",
        "José García",
        None,
    )
    assert user.has_created_password is False
    assert user.created_at == "2026-01-02T03:04:05+00:00"
    # The row changed after the object was built (a mutation's payload): the field follows it.
    row.first_name = "Josefina"
    assert user.first_name == "Josefina"
