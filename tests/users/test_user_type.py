"""The GraphQL User object: plain fields are attributes over the row, not resolvers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from strawberry.types.base import get_object_definition

from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.graphql.users.types import User
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


# A provider of the row's organization: the whole record is shown.
STAFF = Actor(user_id=1, organization_id=1, role=Role.PROVIDER)


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
    user = User(row=row, viewer=STAFF)
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
    assert user.created_at == "2026-01-02 03:04:05 +0000"
    # Written in the viewer's zone (carebook/times.py), resolved once with the viewer.
    in_paris = Actor(
        user_id=1, organization_id=1, role=Role.PROVIDER, zone=ZoneInfo("Europe/Paris")
    )
    assert User(row=row, viewer=in_paris).created_at == "2026-01-02 04:04:05 +0100"
    # The row changed after the object was built (a mutation's payload): the field follows it.
    row.first_name = "Josefina"
    assert user.first_name == "Josefina"


def test_another_patient_sees_only_the_name_and_a_provider_the_profile() -> None:
    row = _row()
    other_patient = Actor(user_id=43, organization_id=1, role=Role.PATIENT)
    seen = User(row=row, viewer=other_patient)
    assert (seen.id, seen.full_name, seen.active) == ("42", "José García", True)
    assert (seen.email, seen.dob, seen.age, seen.user_group_id, seen.timezone) == (None,) * 5
    assert seen.is_patient() is None
    # The patient looking at their provider sees the professional profile, no contact details.
    provider = _row()
    provider.role, provider.timezone, provider.email = Role.PROVIDER, "Europe/Paris", "p@x.org"
    profile = User(row=provider, viewer=other_patient)
    assert (profile.timezone, profile.email, profile.is_patient()) == ("Europe/Paris", None, False)
    # Themselves: everything.
    own = User(row=row, viewer=Actor(user_id=42, organization_id=1, role=Role.PATIENT))
    assert (own.email, own.dob) == ("jose@example.com", "2002-01-01")
