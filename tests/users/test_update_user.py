"""updateUser: patients update themselves; providers update their patients by id or email."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.api import Api
from tests.support.db import user_row, user_snapshot
from tests.support.seed_documents import UPDATE_USER
from tests.support.world import PATIENT_PASSWORD, World

from carebook.db.engine import Database

FULL = """mutation($input: updateUserInput) { updateUser(input: $input) {
  user { id first_name last_name legal_name preferred_name pronouns email phone_number dob
         gender gender_identity sex timezone }
  messages { field message } } }"""

SIGN_IN = """mutation($email: String, $password: String) {
  signIn(input: {email: $email, password: $password}) { token messages { field message } } }"""

NEW_PASSWORD = "f0bar plus baz"
NOT_FOUND = [{"field": "id", "message": "User not found"}]


async def _update(api: Api, **fields: Any) -> dict[str, Any]:
    """The updateUser payload of a call made by ``api``'s credentials."""
    payload: dict[str, Any] = (await api.data(FULL, {"input": fields}))["updateUser"]
    return payload


async def _signs_in(api: Api, email: str, password: str) -> bool:
    data = await api.data(SIGN_IN, {"email": email, "password": password})
    return bool(data["signIn"]["token"])


# --- a patient updating themselves ----------------------------------------------------------


async def test_seed_document_updates_the_signed_in_patient(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_token(world.a.patient_token).data(
        UPDATE_USER,
        {"first_name": "Jonas", "legal_name": "Jonathan", "last_name": "Salk"},
    )
    assert data["updateUser"] == {"user": {"id": str(world.a.patient_id)}, "messages": None}
    row = await user_row(database, world.a.patient_id)
    assert (row.first_name, row.legal_name, row.last_name) == ("Jonas", "Jonathan", "Salk")


async def test_patient_updates_every_own_field(api: Api, world: World) -> None:
    payload = await _update(
        api.with_token(world.a.patient_token),
        first_name="Amara",
        last_name="Okafor",
        legal_name="Amarachi",
        preferred_name="Ama",
        pronouns="she/her",
        email="amara@example.com",
        current_password=PATIENT_PASSWORD,
        phone_number="555-444-2244",
        dob="1990-04-05",
        gender="Female",
        gender_identity="Woman",
        sex="Female",
        timezone="America/Chicago",
    )
    assert payload["messages"] is None
    assert payload["user"] == {
        "id": str(world.a.patient_id),
        "first_name": "Amara",
        "last_name": "Okafor",
        "legal_name": "Amarachi",
        "preferred_name": "Ama",
        "pronouns": "she/her",
        "email": "amara@example.com",
        "phone_number": "+15554442244",
        "dob": "1990-04-05",
        "gender": "Female",
        "gender_identity": "Woman",
        "sex": "Female",
        "timezone": "America/Chicago",
    }


async def test_patient_may_name_themselves_by_id(api: Api, world: World) -> None:
    payload = await _update(
        api.with_token(world.a.patient_token), id=str(world.a.patient_id), pronouns="they/them"
    )
    assert payload["messages"] is None
    assert payload["user"]["pronouns"] == "they/them"


@pytest.mark.parametrize("blank", ["", "  "])
async def test_blank_id_means_the_caller(api: Api, world: World, blank: str) -> None:
    payload = await _update(api.with_token(world.a.patient_token), id=blank, pronouns="they/them")
    assert payload["messages"] is None
    assert payload["user"]["id"] == str(world.a.patient_id)


async def test_patient_after_email_change_signs_in_with_the_new_email(
    api: Api, world: World
) -> None:
    payload = await _update(
        api.with_token(world.a.patient_token),
        email="New.Me@Example.com",
        current_password=PATIENT_PASSWORD,
    )
    assert payload["messages"] is None
    assert await _signs_in(api, "new.me@example.com", PATIENT_PASSWORD)
    assert not await _signs_in(api, "patient.a@example.com", PATIENT_PASSWORD)


async def test_changing_ones_own_email_needs_the_current_password(
    api: Api, world: World, database: Database
) -> None:
    # A stolen session alone must not move the sign-in address (and then reset the password).
    before = await user_snapshot(database, world.a.patient_id)
    patient = api.with_token(world.a.patient_token)
    for wrong in ({}, {"current_password": "not it at all"}):
        payload = await _update(patient, email="thief@example.com", **wrong)
        assert payload["user"] is None
        assert [m["field"] for m in payload["messages"]] == ["current_password"]
    assert await user_snapshot(database, world.a.patient_id) == before
    # The same address, spelt differently, is no change and needs no password.
    same = await _update(patient, email="Patient.A@example.com", first_name="Pat")
    assert same["messages"] is None


async def test_patient_bad_input_gets_messages_and_writes_nothing(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api.with_token(world.a.patient_token),
        first_name=" ",
        email="OTHER.a@example.com",
        current_password=PATIENT_PASSWORD,
        phone_number="12",
        dob="2999-01-01",
        timezone="Atlantis/Capital",
        pronouns="xe/xem",
    )
    assert payload["user"] is None
    # Another patient's address is not one of the problems: the answer must not tell that it
    # is a patient's (tests/users/test_own_email_oracle.py).
    assert {m["field"] for m in payload["messages"]} == {
        "first_name",
        "phone_number",
        "dob",
        "timezone",
    }
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_patient_cannot_update_another_patient(
    api: Api, world: World, database: Database
) -> None:
    patient = api.with_token(world.a.patient_token)
    for target in (world.a.other_patient_id, world.b.patient_id, world.a.provider.user_id):
        before = await user_snapshot(database, target)
        own = await user_snapshot(database, world.a.patient_id)
        payload = await _update(patient, id=str(target), first_name="Hijacked")
        assert payload == {"user": None, "messages": NOT_FOUND}
        assert await user_snapshot(database, target) == before
        assert await user_snapshot(database, world.a.patient_id) == own


async def test_seed_document_with_another_patients_id_changes_nothing(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.other_patient_id)
    data = await api.with_token(world.a.patient_token).data(
        UPDATE_USER, {"id": str(world.a.other_patient_id), "email": "mine@example.com"}
    )
    assert data["updateUser"] == {"user": None, "messages": NOT_FOUND}
    assert await user_snapshot(database, world.a.other_patient_id) == before


async def test_patient_cannot_reach_another_patient_by_current_email(
    api: Api, world: World, database: Database
) -> None:
    own = await user_snapshot(database, world.a.patient_id)
    other = await user_snapshot(database, world.a.other_patient_id)
    payload = await _update(
        api.with_token(world.a.patient_token),
        current_email="other.a@example.com",
        first_name="Hijacked",
    )
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == ["current_email"]
    assert await user_snapshot(database, world.a.other_patient_id) == other
    assert await user_snapshot(database, world.a.patient_id) == own


async def test_patient_may_name_themselves_by_current_email(api: Api, world: World) -> None:
    payload = await _update(
        api.with_token(world.a.patient_token),
        current_email="Patient.A@example.com",
        pronouns="they/them",
    )
    assert payload["messages"] is None
    assert payload["user"]["id"] == str(world.a.patient_id)


@pytest.mark.parametrize("literal", ['dietitian_id: "1"', 'user_group_id: "1"', "active: false"])
async def test_update_user_input_has_no_provider_group_or_status_fields(
    api: Api, world: World, database: Database, literal: str
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    document = f"mutation {{ updateUser(input: {{{literal}}}) {{ user {{ id }} }} }}"
    codes = await api.with_token(world.a.patient_token).error_codes(document)
    assert codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_unknown_input_field_in_variables_is_a_client_error(api: Api, world: World) -> None:
    codes = await api.with_token(world.a.patient_token).error_codes(
        FULL, {"input": {"dietitian_id": str(world.a.staff.user_id)}}
    )
    assert codes == ["BAD_USER_INPUT"]


# --- changing one's own password ------------------------------------------------------------


async def test_own_password_change_needs_the_current_password(
    api: Api, world: World, database: Database
) -> None:
    patient = api.with_token(world.a.patient_token)
    before = await user_snapshot(database, world.a.patient_id)
    for current in (None, "", "wrong password 1"):
        fields: dict[str, Any] = {"password": NEW_PASSWORD, "first_name": "Renamed"}
        if current is not None:
            fields["current_password"] = current
        payload = await _update(patient, **fields)
        assert payload["user"] is None
        assert [m["field"] for m in payload["messages"]] == ["current_password"], current
    assert await user_snapshot(database, world.a.patient_id) == before
    assert await _signs_in(api, "patient.a@example.com", PATIENT_PASSWORD)
    assert not await _signs_in(api, "patient.a@example.com", NEW_PASSWORD)


async def test_password_confirmation_must_match(api: Api, world: World, database: Database) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api.with_token(world.a.patient_token),
        current_password=PATIENT_PASSWORD,
        password=NEW_PASSWORD,
        password_confirmation=NEW_PASSWORD + "!",
    )
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == ["password_confirmation"]
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_new_password_must_be_strong(api: Api, world: World, database: Database) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    for weak in ("password", "Kx9#m"):
        payload = await _update(
            api.with_token(world.a.patient_token),
            current_password=PATIENT_PASSWORD,
            password=weak,
            password_confirmation=weak,
        )
        assert [m["field"] for m in payload["messages"]] == ["password"], weak
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_password_change_then_sign_in_with_the_new_one(api: Api, world: World) -> None:
    payload = await _update(
        api.with_token(world.a.patient_token),
        current_password=PATIENT_PASSWORD,
        password=NEW_PASSWORD,
        password_confirmation=NEW_PASSWORD,
    )
    assert payload["messages"] is None
    assert await _signs_in(api, "patient.a@example.com", NEW_PASSWORD)
    assert not await _signs_in(api, "patient.a@example.com", PATIENT_PASSWORD)


async def test_password_change_without_confirmation(api: Api, world: World) -> None:
    payload = await _update(
        api.with_token(world.a.patient_token),
        current_password=PATIENT_PASSWORD,
        password=NEW_PASSWORD,
    )
    assert payload["messages"] is None
    assert await _signs_in(api, "patient.a@example.com", NEW_PASSWORD)


# --- providers and staff updating a patient -------------------------------------------------


async def test_provider_updates_their_patient_by_id(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_key(world.a.provider.api_key).data(
        UPDATE_USER, {"id": str(world.a.patient_id), "first_name": "ByProvider"}
    )
    assert data["updateUser"] == {"user": {"id": str(world.a.patient_id)}, "messages": None}
    assert (await user_row(database, world.a.patient_id)).first_name == "ByProvider"


async def test_provider_updates_their_patient_by_current_email(
    api: Api, world: World, database: Database
) -> None:
    payload = await _update(
        api.with_key(world.a.provider.api_key),
        current_email="OTHER.A@example.com",
        first_name="ByEmail",
        email="other.renamed@example.com",
    )
    assert payload["messages"] is None
    assert payload["user"]["id"] == str(world.a.other_patient_id)
    row = await user_row(database, world.a.other_patient_id)
    assert (row.first_name, row.email) == ("ByEmail", "other.renamed@example.com")
    # The provider's own record is untouched.
    assert (await user_row(database, world.a.provider.user_id)).first_name == "Prov"


async def test_staff_member_updates_a_patient(api: Api, world: World, database: Database) -> None:
    payload = await _update(
        api.with_key(world.a.staff.api_key), id=str(world.a.patient_id), pronouns="he/him"
    )
    assert payload["messages"] is None
    assert (await user_row(database, world.a.patient_id)).pronouns == "he/him"


async def test_provider_sets_a_patients_password_without_theirs(api: Api, world: World) -> None:
    payload = await _update(
        api.with_key(world.a.provider.api_key), id=str(world.a.patient_id), password=NEW_PASSWORD
    )
    assert payload["messages"] is None
    assert await _signs_in(api, "patient.a@example.com", NEW_PASSWORD)


async def test_provider_of_another_organization_cannot_reach_the_patient(
    api: Api, world: World, database: Database
) -> None:
    b = api.with_key(world.b.provider.api_key)
    before = await user_snapshot(database, world.a.patient_id)
    by_id = await _update(b, id=str(world.a.patient_id), first_name="Hijacked")
    assert by_id == await _update(b, id="987654321", first_name="Hijacked")
    assert by_id == {"user": None, "messages": NOT_FOUND}
    by_email = await _update(b, current_email="patient.a@example.com", first_name="Hijacked")
    assert by_email["user"] is None
    assert [m["field"] for m in by_email["messages"]] == ["current_email"]
    assert await user_snapshot(database, world.a.patient_id) == before
    # Organization B's own records are untouched too: current_email did not fall back to the
    # caller or to B's patients.
    assert (await user_row(database, world.b.provider.user_id)).first_name == "Prov"


async def test_unknown_current_email_is_a_message(api: Api, world: World) -> None:
    payload = await _update(
        api.with_key(world.a.provider.api_key), current_email="nobody@example.com", first_name="X"
    )
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == ["current_email"]


async def test_provider_cannot_update_a_colleague(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.staff.user_id)
    payload = await _update(
        api.with_key(world.a.provider.api_key), id=str(world.a.staff.user_id), first_name="X"
    )
    assert payload == {"user": None, "messages": NOT_FOUND}
    assert await user_snapshot(database, world.a.staff.user_id) == before


async def test_provider_without_id_updates_themselves(
    api: Api, world: World, database: Database
) -> None:
    payload = await _update(api.with_key(world.a.provider.api_key), first_name="Dr. Prov")
    assert payload["messages"] is None
    assert payload["user"]["id"] == str(world.a.provider.user_id)
    assert (await user_row(database, world.a.provider.user_id)).first_name == "Dr. Prov"


async def test_malformed_id_is_a_message(api: Api, world: World) -> None:
    payload = await _update(api.with_key(world.a.provider.api_key), id="abc", first_name="X")
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == ["id"]


async def test_anonymous_is_unauthenticated(api: Api, world: World, database: Database) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    variables = {"id": str(world.a.patient_id), "first_name": "Anon"}
    assert await api.error_codes(UPDATE_USER, variables) == ["UNAUTHENTICATED"]
    assert await api.with_token("stale-token").error_codes(UPDATE_USER, variables) == [
        "UNAUTHENTICATED"
    ]
    assert await user_snapshot(database, world.a.patient_id) == before
