"""signUp with the seed's document: where a patient lands, provider sign-up, and every refusal."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.auth_helpers import (
    CURRENT_USER,
    add_provider,
    count_rows,
    get_row,
    group_invite_code,
    user_invite_code,
)
from tests.support.seed_documents import GET_USER, SIGN_UP
from tests.support.world import World

from carebook.auth.models import SessionToken
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.users.models import User

# The seed's document, also asking for the session token signUp returns.
SIGN_UP_WITH_TOKEN = SIGN_UP.replace("user { id }", "user { id } token")
PASSWORD = "b@se3ball rocks"


def patient(**extra: Any) -> dict[str, Any]:
    """Variables of a valid patient sign-up; add dietitian_id and/or invite_code."""
    return {
        "first_name": "Mei",
        "last_name": "Chen",
        "email": "mei.chen@example.com",
        "password": PASSWORD,
        "role": "patient",
        **extra,
    }


async def signed_up(api: Api, database: Database, variables: dict[str, Any]) -> User:
    """Sign up with the seed's document, which must succeed; the new user's row."""
    payload = (await api.data(SIGN_UP, variables))["signUp"]
    assert payload["messages"] is None, payload
    return await get_row(database, User, payload["user"]["id"])


async def refused(api: Api, database: Database, variables: dict[str, Any]) -> list[str | None]:
    """The fields named by signUp's messages, after checking nothing at all was written."""
    users, tokens = await count_rows(database, User), await count_rows(database, SessionToken)
    payload = (await api.data(SIGN_UP_WITH_TOKEN, variables))["signUp"]
    assert payload["user"] is None, payload
    assert payload["token"] is None, payload
    assert payload["messages"], payload
    assert all(m["message"] for m in payload["messages"]), payload
    assert await count_rows(database, User) == users
    assert await count_rows(database, SessionToken) == tokens
    return [m["field"] for m in payload["messages"]]


# --- where a patient lands ------------------------------------------------------------------------


async def test_patient_with_dietitian_id_joins_that_providers_organization(
    api: Api, world: World, database: Database
) -> None:
    provider = world.b.provider
    row = await signed_up(api, database, patient(dietitian_id=str(provider.user_id)))
    assert row.role == "patient"
    assert row.organization_id == provider.organization_id
    assert row.dietitian_id == provider.user_id
    assert row.user_group_id is None
    assert row.active is True
    # The new patient is now one of that provider's patients.
    data = await api.with_key(provider.api_key).data(GET_USER, {"id": str(row.id)})
    assert data["user"]["email"] == "mei.chen@example.com"


async def test_sign_up_token_works_as_bearer_token(api: Api, world: World) -> None:
    variables = patient(dietitian_id=str(world.a.provider.user_id))
    payload = (await api.data(SIGN_UP_WITH_TOKEN, variables))["signUp"]
    assert payload["messages"] is None
    assert payload["token"]
    me = await api.with_token(payload["token"]).data(CURRENT_USER)
    assert me["currentUser"] == {"id": payload["user"]["id"]}


async def test_the_password_given_at_sign_up_is_stored_hashed(
    api: Api, world: World, database: Database
) -> None:
    row = await signed_up(api, database, patient(dietitian_id=str(world.a.provider.user_id)))
    assert row.password_hash
    assert PASSWORD not in row.password_hash
    assert row.password_hash.startswith("$argon2id$")


async def test_provider_invite_code_makes_that_provider_the_primary_provider(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    # A second provider, so that landing on the organization's first provider would be caught.
    second = await add_provider(
        database, passwords, organization_id=world.a.provider.organization_id, email="p2@x.org"
    )
    code = await user_invite_code(database, second.user_id)
    row = await signed_up(api, database, patient(invite_code=code))
    assert row.organization_id == world.a.provider.organization_id
    assert row.dietitian_id == second.user_id
    assert row.user_group_id is None


async def test_provider_invite_code_is_readable_on_the_user_object(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_key(world.b.provider.api_key).data(
        "query { currentUser { invite_code } }"
    )
    code = data["currentUser"]["invite_code"]
    assert code == await user_invite_code(database, world.b.provider.user_id)
    row = await signed_up(api, database, patient(invite_code=code))
    assert row.dietitian_id == world.b.provider.user_id


async def test_group_invite_code_puts_patient_in_that_group(
    api: Api, world: World, database: Database
) -> None:
    code = await group_invite_code(database, world.a.group_id)
    row = await signed_up(api, database, patient(invite_code=code))
    assert row.user_group_id == world.a.group_id
    assert row.organization_id == world.a.provider.organization_id
    assert row.dietitian_id == world.a.provider.user_id


async def test_group_invite_code_with_dietitian_of_the_same_organization(
    api: Api, world: World, database: Database
) -> None:
    code = await group_invite_code(database, world.a.group_id)
    variables = patient(invite_code=code, dietitian_id=str(world.a.staff.user_id))
    row = await signed_up(api, database, variables)
    assert row.user_group_id == world.a.group_id
    assert row.dietitian_id == world.a.staff.user_id
    assert row.organization_id == world.a.provider.organization_id


async def test_group_invite_code_with_dietitian_of_another_organization_is_refused(
    api: Api, world: World, database: Database
) -> None:
    code = await group_invite_code(database, world.a.group_id)
    variables = patient(invite_code=code, dietitian_id=str(world.b.provider.user_id))
    assert await refused(api, database, variables) == ["dietitian_id"]


async def test_provider_invite_code_with_dietitian_of_another_organization_is_refused(
    api: Api, world: World, database: Database
) -> None:
    code = await user_invite_code(database, world.a.provider.user_id)
    variables = patient(invite_code=code, dietitian_id=str(world.b.provider.user_id))
    assert await refused(api, database, variables) == ["dietitian_id"]


# --- refusals -------------------------------------------------------------------------------------


async def test_unknown_invite_code_is_refused(api: Api, world: World, database: Database) -> None:
    assert await refused(api, database, patient(invite_code="nosuchcode")) == ["invite_code"]


async def test_dietitian_id_or_invite_code_is_required(
    api: Api, world: World, database: Database
) -> None:
    assert await refused(api, database, patient()) == ["dietitian_id"]
    assert await refused(api, database, patient(dietitian_id="", invite_code=" ")) == [
        "dietitian_id"
    ]


async def test_dietitian_id_must_name_a_provider(
    api: Api, world: World, database: Database
) -> None:
    for dietitian_id in ["999999", "abc", str(world.a.patient_id), "99999999999"]:
        variables = patient(dietitian_id=dietitian_id)
        assert await refused(api, database, variables) == ["dietitian_id"], dietitian_id


async def test_role_must_be_patient_or_provider(api: Api, world: World, database: Database) -> None:
    dietitian = {"dietitian_id": str(world.a.provider.user_id)}
    for role in [None, "", "admin", "staff"]:
        variables = patient(**dietitian, role=role)
        assert await refused(api, database, variables) == ["role"], role


async def test_provider_sign_up_opens_a_new_organization(
    api: Api, world: World, database: Database
) -> None:
    variables = patient(role="provider", email="new.provider@example.com")
    payload = (await api.data(SIGN_UP_WITH_TOKEN, variables))["signUp"]
    assert payload["messages"] is None
    row = await get_row(database, User, payload["user"]["id"])
    assert row.role == "provider"
    assert row.organization_id not in {
        world.a.provider.organization_id,
        world.b.provider.organization_id,
    }
    # The new practice sees nothing of organization A.
    new_provider = api.with_token(payload["token"])
    assert (await new_provider.data(GET_USER, {"id": str(world.a.patient_id)})) == {"user": None}
    # And patients can now sign up with the new provider.
    joined = await signed_up(api, database, patient(dietitian_id=str(row.id)))
    assert joined.organization_id == row.organization_id


async def test_provider_sign_up_with_a_taken_provider_email_is_refused(
    api: Api, world: World, database: Database
) -> None:
    variables = patient(role="provider", email="Staff.B@example.com")
    assert await refused(api, database, variables) == ["email"]


async def test_required_profile_fields(api: Api, world: World, database: Database) -> None:
    dietitian = {"dietitian_id": str(world.a.provider.user_id)}
    for field in ["first_name", "last_name", "email", "password"]:
        for missing in [None, ""]:
            variables = patient(**dietitian, **{field: missing})
            assert await refused(api, database, variables) == [field], (field, missing)


async def test_missing_profile_fields_are_reported_together(
    api: Api, world: World, database: Database
) -> None:
    variables = {"role": "patient", "dietitian_id": str(world.a.provider.user_id)}
    fields = await refused(api, database, variables)
    assert sorted(fields, key=str) == ["email", "first_name", "last_name", "password"]


async def test_weak_or_short_passwords_are_refused(
    api: Api, world: World, database: Database
) -> None:
    dietitian = {"dietitian_id": str(world.a.provider.user_id)}
    for password in ["password", "Kx9#mQ2v", "Ab1!xyz", "b@se3"]:
        variables = patient(**dietitian, password=password)
        assert await refused(api, database, variables) == ["password"], password


async def test_provider_sign_up_checks_the_password_too(
    api: Api, world: World, database: Database
) -> None:
    variables = patient(role="provider", email="weak.provider@example.com", password="password")
    assert await refused(api, database, variables) == ["password"]


async def test_invalid_email_and_phone_number_are_refused(
    api: Api, world: World, database: Database
) -> None:
    dietitian = {"dietitian_id": str(world.a.provider.user_id)}
    assert await refused(api, database, patient(**dietitian, email="not-an-email")) == ["email"]
    assert await refused(api, database, patient(**dietitian, phone_number="call me")) == [
        "phone_number"
    ]


async def test_unknown_timezone_is_refused(api: Api, world: World, database: Database) -> None:
    variables = patient(dietitian_id=str(world.a.provider.user_id), timezone="Mars/Olympus")
    assert await refused(api, database, variables) == ["timezone"]


async def test_iana_timezone_and_phone_number_are_stored(
    api: Api, world: World, database: Database
) -> None:
    variables = patient(
        dietitian_id=str(world.a.provider.user_id),
        timezone="America/New_York",
        phone_number="555-444-2244",
    )
    row = await signed_up(api, database, variables)
    assert row.timezone == "America/New_York"
    assert row.phone_number == "+15554442244"


async def test_email_of_a_patient_of_the_same_organization_creates_nothing(
    api: Api, world: World, database: Database
) -> None:
    # The answer does not say the email is taken (tests/auth/test_enrollment_oracle.py).
    variables = patient(dietitian_id=str(world.a.provider.user_id), email="PATIENT.a@Example.com")
    assert await refused(api, database, variables) == ["email"]


async def test_email_of_a_patient_of_another_organization_is_allowed(
    api: Api, world: World, database: Database
) -> None:
    variables = patient(dietitian_id=str(world.b.provider.user_id), email="PATIENT.a@Example.com")
    row = await signed_up(api, database, variables)
    assert row.organization_id == world.b.provider.organization_id


async def test_signing_up_twice_with_the_same_email_creates_one_patient(
    api: Api, world: World, database: Database
) -> None:
    code = await group_invite_code(database, world.a.group_id)
    await signed_up(api, database, patient(invite_code=code))
    variables = patient(dietitian_id=str(world.a.staff.user_id), email="Mei.Chen@example.com")
    assert await refused(api, database, variables) == ["email"]
