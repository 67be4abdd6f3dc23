"""The GraphQL User object: fields read from the row, each withheld below its disclosure level."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from strawberry.types.base import get_object_definition

from carebook.auth.actor import Actor
from carebook.graphql.users.types import User
from carebook.users.models import Role
from carebook.users.models import User as UserRow

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


def _answer(user: User, fields: str) -> dict[str, Any]:
    """``user``'s fields as their resolvers answer them."""
    definition = get_object_definition(User, strict=True)
    answer: dict[str, Any] = {}
    for name in fields.split():
        resolver = next(f for f in definition.fields if f.python_name == name).base_resolver
        assert resolver is not None  # an ordinary resolver field
        answer[name] = resolver(user)
    return answer


def test_plain_fields_read_the_row_when_asked() -> None:
    row = _row()
    user = User(row=row, viewer=STAFF)
    assert _answer(user, "id first_name dob user_group_id full_name full_legal_name") == {
        "id": "42",
        "first_name": "José",
        "dob": "2002-01-01",
        "user_group_id": "7",
        "full_name": "José García",
        "full_legal_name": "José García",
    }
    assert _answer(user, "dietitian_id has_created_password created_at") == {
        "dietitian_id": None,
        "has_created_password": False,
        "created_at": "2026-01-02T03:04:05+00:00",
    }
    # The row changed after the object was built (a mutation's payload): the field follows it.
    row.first_name = "Josefina"
    assert _answer(user, "first_name") == {"first_name": "Josefina"}


def test_another_patient_sees_only_the_name_and_a_provider_the_profile() -> None:
    row = _row()
    other_patient = Actor(user_id=43, organization_id=1, role=Role.PATIENT)
    seen = User(row=row, viewer=other_patient)
    assert _answer(seen, "id full_name active email dob age user_group_id timezone") == {
        "id": "42",
        "full_name": "José García",
        "active": True,
        **dict.fromkeys(("email", "dob", "age", "user_group_id", "timezone")),
    }
    assert seen.is_patient() is None
    # The patient looking at their provider sees the professional profile, no contact details.
    provider = _row()
    provider.role, provider.timezone, provider.email = Role.PROVIDER, "Europe/Paris", "p@x.org"
    profile = User(row=provider, viewer=other_patient)
    assert _answer(profile, "timezone email") == {"timezone": "Europe/Paris", "email": None}
    assert profile.is_patient() is False
    # Themselves: everything.
    own = User(row=row, viewer=Actor(user_id=42, organization_id=1, role=Role.PATIENT))
    assert _answer(own, "email dob") == {"email": "jose@example.com", "dob": "2002-01-01"}
