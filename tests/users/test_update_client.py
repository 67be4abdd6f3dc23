"""updateClient: every field, archiving, groups, email triggers, bad input and visibility."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from tests.support.api import Api
from tests.support.db import care_team, outbox, user_row, user_snapshot
from tests.support.seed_documents import UPDATE_CLIENT
from tests.support.world import PATIENT_PASSWORD, World

from carebook import builders
from carebook.auth.password_strength import TOO_SHORT_MESSAGE, TOO_WEAK_MESSAGE
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database

FULL = """mutation($input: updateClientInput) { updateClient(input: $input) {
  user { id first_name last_name legal_name preferred_name pronouns dob gender gender_identity
         sex email phone_number timezone record_identifier additional_record_identifier metadata
         dietitian_id user_group_id other_provider_ids active archived_at
         providers { id } }
  messages { field message } } }"""

SIGN_IN = """mutation($email: String, $password: String) {
  signIn(input: {email: $email, password: $password}) { token messages { field message } } }"""

CURRENT_USER = "query { currentUser { id } }"

NOT_FOUND = [{"field": "id", "message": "User not found"}]


async def _update(api: Api, key: str, **fields: Any) -> dict[str, Any]:
    """The updateClient payload of a call made with ``key``."""
    payload: dict[str, Any] = (await api.with_key(key).data(FULL, {"input": fields}))[
        "updateClient"
    ]
    return payload


async def _group(database: Database, organization_id: int, name: str) -> int:
    async with database.write_sessions() as session, session.begin():
        return (await builders.group(session, organization_id=organization_id, name=name)).id


async def _patient(database: Database, passwords: Passwords, world: World, **fields: Any) -> int:
    """A further patient of organization A."""
    actor = builders.actor_of(world.a.provider)
    async with database.write_sessions() as session, session.begin():
        return (await builders.patient(session, passwords, actor=actor, **fields)).id


# --- the seed's document --------------------------------------------------------------------


async def test_seed_document_updates_names_and_email(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_key(world.a.provider.api_key).data(
        UPDATE_CLIENT,
        {
            "id": str(world.a.patient_id),
            "first_name": "Jonas",
            "last_name": "Salk",
            "legal_name": "Jonathan",
            "email": "Jonas.Salk@Example.COM",
        },
    )
    assert data["updateClient"] == {
        "user": {
            "id": str(world.a.patient_id),
            "first_name": "Jonas",
            "last_name": "Salk",
            "legal_name": "Jonathan",
            "email": "Jonas.Salk@example.com",
        },
        "messages": None,
    }
    row = await user_row(database, world.a.patient_id)
    assert (row.first_name, row.last_name, row.legal_name) == ("Jonas", "Salk", "Jonathan")
    assert (row.email, row.email_key) == ("Jonas.Salk@example.com", "jonas.salk@example.com")


async def test_seed_document_with_only_id_changes_nothing(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    data = await api.with_key(world.a.provider.api_key).data(
        UPDATE_CLIENT, {"id": str(world.a.patient_id)}
    )
    assert data["updateClient"]["messages"] is None
    assert data["updateClient"]["user"]["first_name"] == "Pat"
    after = await user_snapshot(database, world.a.patient_id)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


# --- every demographic field ----------------------------------------------------------------


async def test_every_demographic_field_is_applied(
    api: Api, world: World, database: Database
) -> None:
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        first_name=" Amara ",
        last_name="Okafor",
        legal_name="Amarachi",
        preferred_name="Ama",
        pronouns="she/her",
        dob="1990-04-05",
        gender="Female",
        gender_identity="Woman",
        sex="Female",
        email="amara@example.com",
        phone_number="(212) 555-0100",
        timezone="America/New_York",
        record_identifier="MRN-1",
        additional_record_identifier="EXT-9",
        metadata='{"source": "referral"}',
        dietitian_id=str(world.a.staff.user_id),
        user_group_id=str(world.a.group_id),
        other_provider_ids=[str(world.a.provider.user_id)],
    )
    assert payload["messages"] is None
    assert payload["user"] == {
        "id": str(world.a.patient_id),
        "first_name": "Amara",
        "last_name": "Okafor",
        "legal_name": "Amarachi",
        "preferred_name": "Ama",
        "pronouns": "she/her",
        "dob": "1990-04-05",
        "gender": "Female",
        "gender_identity": "Woman",
        "sex": "Female",
        "email": "amara@example.com",
        "phone_number": "+12125550100",
        "timezone": "America/New_York",
        "record_identifier": "MRN-1",
        "additional_record_identifier": "EXT-9",
        "metadata": '{"source": "referral"}',
        "dietitian_id": str(world.a.staff.user_id),
        "user_group_id": str(world.a.group_id),
        "other_provider_ids": [str(world.a.provider.user_id)],
        "active": True,
        "archived_at": None,
        "providers": [{"id": str(world.a.staff.user_id)}, {"id": str(world.a.provider.user_id)}],
    }
    row = await user_row(database, world.a.patient_id)
    assert row.first_name == "Amara"
    assert row.dob == date(1990, 4, 5)
    assert row.email_key == "amara@example.com"
    assert row.user_metadata == '{"source": "referral"}'
    assert row.dietitian_id == world.a.staff.user_id
    assert row.user_group_id == world.a.group_id
    assert await care_team(database, world.a.patient_id) == [world.a.provider.user_id]


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("first_name", "Jonas", "Jonas"),
        ("last_name", "Salk", "Salk"),
        ("legal_name", "Jonathan", "Jonathan"),
        ("preferred_name", "Joe", "Joe"),
        ("pronouns", "he/him", "he/him"),
        ("gender", "Male", "Male"),
        ("gender_identity", "Man", "Man"),
        ("sex", "Male", "Male"),
        ("dob", "10/10/2010", "2010-10-10"),
        ("email", "new.address@example.com", "new.address@example.com"),
        ("phone_number", "555-444-2244", "+15554442244"),
        ("timezone", "Europe/Paris", "Europe/Paris"),
        ("record_identifier", "R-1", "R-1"),
        ("additional_record_identifier", "A-1", "A-1"),
        ("metadata", '{"a": [1, 2]}', '{"a": [1, 2]}'),
        # 64 levels, the most allowed
        ("metadata", '{"a": ' + "[" * 63 + "]" * 63 + "}", '{"a": ' + "[" * 63 + "]" * 63 + "}"),
    ],
)
async def test_one_field_changes_only_that_field(
    api: Api, world: World, database: Database, field: str, value: str, stored: str
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api, world.a.provider.api_key, id=str(world.a.patient_id), **{field: value}
    )
    assert payload["messages"] is None
    assert payload["user"][field] == stored
    after = await user_snapshot(database, world.a.patient_id)
    changed = {k for k in after if after[k] != before[k]}
    column = "user_metadata" if field == "metadata" else field
    allowed = {column, "updated_at", "email_key"}
    assert column in changed
    assert changed <= allowed, changed


async def test_blank_optional_fields_are_cleared(api: Api, world: World) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    filled = {
        "legal_name": "Jonathan",
        "preferred_name": "Joe",
        "pronouns": "he/him",
        "gender": "Male",
        "dob": "2010-10-10",
        "phone_number": "555-444-2244",
        "timezone": "Europe/Paris",
        "record_identifier": "R-2",
        "metadata": "{}",
    }
    assert (await _update(api, key, id=patient, **filled))["messages"] is None
    payload = await _update(api, key, id=patient, **{name: "" for name in filled})
    assert payload["messages"] is None
    assert {name: payload["user"][name] for name in filled} == dict.fromkeys(filled)


async def test_explicit_null_leaves_a_field_alone(api: Api, world: World) -> None:
    payload = await _update(
        api, world.a.provider.api_key, id=str(world.a.patient_id), first_name=None, last_name="New"
    )
    assert payload["messages"] is None
    assert (payload["user"]["first_name"], payload["user"]["last_name"]) == ("Pat", "New")


async def test_email_may_keep_its_own_address_in_another_case(api: Api, world: World) -> None:
    payload = await _update(
        api, world.a.provider.api_key, id=str(world.a.patient_id), email="PATIENT.A@example.com"
    )
    assert payload["messages"] is None
    assert payload["user"]["email"] == "PATIENT.A@example.com"


async def test_email_of_a_patient_of_another_organization_is_free(api: Api, world: World) -> None:
    payload = await _update(
        api, world.a.provider.api_key, id=str(world.a.patient_id), email="other.b@example.com"
    )
    assert payload["messages"] is None
    assert payload["user"]["email"] == "other.b@example.com"


async def test_other_provider_ids_replace_the_care_team(
    api: Api, world: World, database: Database
) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    payload = await _update(api, key, id=patient, other_provider_ids=[str(world.a.staff.user_id)])
    assert payload["user"]["other_provider_ids"] == [str(world.a.staff.user_id)]
    # The primary provider is never listed twice.
    payload = await _update(
        api,
        key,
        id=patient,
        other_provider_ids=[str(world.a.provider.user_id), str(world.a.staff.user_id)],
    )
    assert payload["user"]["other_provider_ids"] == [str(world.a.staff.user_id)]
    payload = await _update(api, key, id=patient, other_provider_ids=[])
    assert payload["messages"] is None
    assert payload["user"]["other_provider_ids"] == []
    assert await care_team(database, world.a.patient_id) == []


async def test_a_new_primary_provider_leaves_the_further_providers(
    api: Api, world: World, database: Database
) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    await _update(api, key, id=patient, other_provider_ids=[str(world.a.staff.user_id)])
    payload = await _update(api, key, id=patient, dietitian_id=str(world.a.staff.user_id))
    assert payload["messages"] is None
    assert payload["user"]["dietitian_id"] == str(world.a.staff.user_id)
    assert str(world.a.staff.user_id) not in payload["user"]["other_provider_ids"]
    provider_ids = [p["id"] for p in payload["user"]["providers"]]
    assert len(provider_ids) == len(set(provider_ids)), provider_ids
    assert world.a.staff.user_id not in await care_team(database, world.a.patient_id)


async def test_password_set_by_provider_is_the_one_to_sign_in_with(api: Api, world: World) -> None:
    payload = await _update(
        api, world.a.provider.api_key, id=str(world.a.patient_id), password="f0bar plus baz"
    )
    assert payload["messages"] is None
    new = await api.data(SIGN_IN, {"email": "patient.a@example.com", "password": "f0bar plus baz"})
    assert new["signIn"]["messages"] is None
    assert new["signIn"]["token"]
    old = await api.data(SIGN_IN, {"email": "patient.a@example.com", "password": PATIENT_PASSWORD})
    assert old["signIn"]["token"] is None
    assert old["signIn"]["messages"]


# --- archiving ------------------------------------------------------------------------------


async def test_active_false_archives_and_keeps_the_data(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(api, world.a.provider.api_key, id=str(world.a.patient_id), active=False)
    assert payload["messages"] is None
    assert payload["user"]["active"] is False
    assert payload["user"]["archived_at"]
    after = await user_snapshot(database, world.a.patient_id)
    assert after["active"] is False
    assert after["archived_at"] is not None
    kept = {k for k in before if k not in {"active", "archived_at", "updated_at"}}
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}


async def test_archived_patient_can_still_be_read_by_the_provider(api: Api, world: World) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    await _update(api, key, id=patient, active=False)
    data = await api.with_key(key).data(
        "query($id: ID) { user(id: $id) { id first_name active } }", {"id": patient}
    )
    assert data["user"] == {"id": patient, "first_name": "Pat", "active": False}


async def test_archived_patient_cannot_use_their_session(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(CURRENT_USER))["currentUser"]["id"] == str(world.a.patient_id)
    await _update(api, world.a.provider.api_key, id=str(world.a.patient_id), active=False)
    assert await patient.error_codes(CURRENT_USER) == ["UNAUTHENTICATED"]


async def test_archiving_again_keeps_the_first_archived_at(
    api: Api, world: World, database: Database
) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    await _update(api, key, id=patient, active=False)
    first = (await user_row(database, world.a.patient_id)).archived_at
    assert first is not None
    payload = await _update(api, key, id=patient, active=False, pronouns="they/them")
    assert payload["messages"] is None
    assert (await user_row(database, world.a.patient_id)).archived_at == first


async def test_active_true_reactivates(api: Api, world: World, database: Database) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    await _update(api, key, id=patient, active=False)
    payload = await _update(api, key, id=patient, active=True)
    assert payload["messages"] is None
    assert (payload["user"]["active"], payload["user"]["archived_at"]) == (True, None)
    row = await user_row(database, world.a.patient_id)
    assert (row.active, row.archived_at) == (True, None)
    assert row.first_name == "Pat"
    # Reactivated patients sign in again.
    data = await api.with_token(world.a.patient_token).data(CURRENT_USER)
    assert data["currentUser"]["id"] == patient


# --- groups ---------------------------------------------------------------------------------


async def test_user_group_id_moves_the_patient(api: Api, world: World, database: Database) -> None:
    second = await _group(database, world.a.provider.organization_id, "Second")
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    await _update(api, key, id=patient, user_group_id=str(world.a.group_id))
    payload = await _update(api, key, id=patient, user_group_id=str(second))
    assert payload["user"]["user_group_id"] == str(second)
    assert (await user_row(database, world.a.patient_id)).user_group_id == second


async def test_empty_user_group_id_removes_the_group(
    api: Api, world: World, database: Database
) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    await _update(api, key, id=patient, user_group_id=str(world.a.group_id))
    assert (await user_row(database, world.a.patient_id)).user_group_id == world.a.group_id
    payload = await _update(api, key, id=patient, user_group_id="")
    assert payload["messages"] is None
    assert payload["user"]["user_group_id"] is None
    assert (await user_row(database, world.a.patient_id)).user_group_id is None


async def test_for_changing_groups_removes_the_group(
    api: Api, world: World, database: Database
) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    await _update(api, key, id=patient, user_group_id=str(world.a.group_id))
    payload = await _update(api, key, id=patient, for_changing_groups=True)
    assert payload["messages"] is None
    assert payload["user"]["user_group_id"] is None
    assert (await user_row(database, world.a.patient_id)).user_group_id is None


async def test_for_changing_groups_false_keeps_the_group(api: Api, world: World) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    await _update(api, key, id=patient, user_group_id=str(world.a.group_id))
    payload = await _update(api, key, id=patient, for_changing_groups=False, pronouns="she/her")
    assert payload["user"]["user_group_id"] == str(world.a.group_id)


# --- email triggers take precedence ---------------------------------------------------------


async def test_resend_welcome_queues_the_invite_and_ignores_other_changes(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        resend_welcome=True,
        first_name="Renamed",
    )
    assert payload["messages"] is None
    assert payload["user"]["first_name"] == "Pat"
    assert await outbox(database) == [(world.a.patient_id, "welcome")]
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_resend_welcome_false_is_an_ordinary_update(
    api: Api, world: World, database: Database
) -> None:
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        resend_welcome=False,
        first_name="Renamed",
    )
    assert payload["user"]["first_name"] == "Renamed"
    assert await outbox(database) == []


async def test_resend_welcome_without_an_email_is_a_message(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    no_mail = await _patient(database, passwords, world, skipped_email=True)
    payload = await _update(api, world.a.provider.api_key, id=str(no_mail), resend_welcome=True)
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == ["email"]
    assert await outbox(database) == []


async def test_intake_reminder_is_queued_and_demographics_unchanged(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        send_form_request_reminder=True,
        is_intake_item=True,
        first_name="Renamed",
        phone_number="555-444-2244",
        active=False,
    )
    assert payload["messages"] is None
    assert await outbox(database) == [(world.a.patient_id, "intake_forms_reminder")]
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_resend_welcome_wins_over_the_form_reminder(
    api: Api, world: World, database: Database
) -> None:
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        resend_welcome=True,
        send_form_request_reminder=True,
        is_intake_item=True,
    )
    assert payload["messages"] is None
    assert await outbox(database) == [(world.a.patient_id, "welcome")]


async def test_form_reminder_alone_is_a_message_and_writes_nothing(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        send_form_request_reminder=True,
        first_name="Renamed",
    )
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == ["send_form_request_reminder"]
    assert await outbox(database) == []
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_form_reminder_of_an_unknown_form_request_is_a_message(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        send_form_request_reminder=True,
        requested_form_completion_id="77",
        first_name="Renamed",
    )
    assert [m["field"] for m in payload["messages"]] == ["requested_form_completion_id"]
    assert await outbox(database) == []
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_is_intake_item_without_send_form_request_reminder_sends_nothing(
    api: Api, world: World, database: Database
) -> None:
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        is_intake_item=True,
        first_name="Renamed",
    )
    assert payload["user"]["first_name"] == "Renamed"
    assert await outbox(database) == []


# --- bad input: a message naming the field, and nothing written -----------------------------

Case = Callable[[World], dict[str, Any]]


def nested_metadata(depth: int) -> str:
    """A JSON object whose value nests arrays, ``depth`` levels in all."""
    return '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


BAD_INPUTS: list[tuple[str, Case, str]] = [
    ("blank first_name", lambda w: {"first_name": "  "}, "first_name"),
    ("empty first_name", lambda w: {"first_name": ""}, "first_name"),
    ("empty last_name", lambda w: {"last_name": ""}, "last_name"),
    ("long first_name", lambda w: {"first_name": "x" * 101}, "first_name"),
    ("bad email", lambda w: {"email": "not-an-email"}, "email"),
    ("blank email", lambda w: {"email": " "}, "email"),
    ("duplicate email", lambda w: {"email": "other.a@example.com"}, "email"),
    ("duplicate email, other case", lambda w: {"email": "OTHER.A@Example.COM"}, "email"),
    ("short phone", lambda w: {"phone_number": "12"}, "phone_number"),
    ("words as phone", lambda w: {"phone_number": "call me"}, "phone_number"),
    ("partial dob", lambda w: {"dob": "10/10"}, "dob"),
    ("impossible dob", lambda w: {"dob": "1990-02-30"}, "dob"),
    ("future dob", lambda w: {"dob": "2999-01-01"}, "dob"),
    ("unknown timezone", lambda w: {"timezone": "Mars/Olympus"}, "timezone"),
    ("weak password", lambda w: {"password": "password"}, "password"),
    ("short password", lambda w: {"password": "Kx9#m"}, "password"),
    ("metadata not an object", lambda w: {"metadata": "[1, 2]"}, "metadata"),
    ("metadata not JSON", lambda w: {"metadata": "{oops"}, "metadata"),
    # Past the decoder's recursion limit, within the length: was an internal error.
    ("metadata nested 4,000 deep", lambda w: {"metadata": nested_metadata(4000)}, "metadata"),
    ("metadata nested 65 deep", lambda w: {"metadata": nested_metadata(65)}, "metadata"),
    ("metadata too long and deep", lambda w: {"metadata": "[" * 20_000}, "metadata"),
    ("dietitian of org B", lambda w: {"dietitian_id": str(w.b.provider.user_id)}, "dietitian_id"),
    ("dietitian a patient", lambda w: {"dietitian_id": str(w.a.other_patient_id)}, "dietitian_id"),
    ("dietitian malformed", lambda w: {"dietitian_id": "abc"}, "dietitian_id"),
    ("dietitian blank", lambda w: {"dietitian_id": ""}, "dietitian_id"),
    ("group of org B", lambda w: {"user_group_id": str(w.b.group_id)}, "user_group_id"),
    ("unknown group", lambda w: {"user_group_id": "999999"}, "user_group_id"),
    ("malformed group", lambda w: {"user_group_id": "x1"}, "user_group_id"),
    (
        "care team member of org B",
        lambda w: {"other_provider_ids": [str(w.b.provider.user_id)]},
        "other_provider_ids",
    ),
    ("care team malformed", lambda w: {"other_provider_ids": ["x"]}, "other_provider_ids"),
]


@pytest.mark.parametrize(
    ("case", "field"),
    [(case, field) for _, case, field in BAD_INPUTS],
    ids=[n for n, *_ in BAD_INPUTS],
)
async def test_bad_input_gets_a_message_and_writes_nothing(
    api: Api, world: World, database: Database, case: Case, field: str
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    # A valid change sent alongside must not be applied either.
    payload = await _update(
        api, world.a.provider.api_key, id=str(world.a.patient_id), pronouns="xe/xem", **case(world)
    )
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == [field], payload
    assert all(m["message"] for m in payload["messages"])
    assert await user_snapshot(database, world.a.patient_id) == before
    assert await outbox(database) == []


async def test_password_messages_say_what_is_wrong(api: Api, world: World) -> None:
    key, patient = world.a.provider.api_key, str(world.a.patient_id)
    weak = await _update(api, key, id=patient, password="password")
    assert weak["messages"] == [{"field": "password", "message": TOO_WEAK_MESSAGE}]
    short = await _update(api, key, id=patient, password="Kx9#m")
    assert short["messages"] == [{"field": "password", "message": TOO_SHORT_MESSAGE}]


async def test_duplicate_email_message(api: Api, world: World) -> None:
    payload = await _update(
        api, world.a.provider.api_key, id=str(world.a.patient_id), email="Other.A@example.com"
    )
    assert payload["messages"] == [{"field": "email", "message": "Email has already been taken"}]


async def test_duplicate_record_identifier_writes_nothing(
    api: Api, world: World, database: Database
) -> None:
    key = world.a.provider.api_key
    taken = await _update(api, key, id=str(world.a.other_patient_id), record_identifier="MRN-7")
    assert taken["messages"] is None
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api, key, id=str(world.a.patient_id), record_identifier="MRN-7", first_name="Renamed"
    )
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == ["record_identifier"]
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_record_identifier_of_another_organization_is_free(api: Api, world: World) -> None:
    b = await _update(
        api, world.b.provider.api_key, id=str(world.b.patient_id), record_identifier="MRN-8"
    )
    assert b["messages"] is None
    a = await _update(
        api, world.a.provider.api_key, id=str(world.a.patient_id), record_identifier="MRN-8"
    )
    assert a["messages"] is None


async def test_several_problems_are_reported_together(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        first_name="",
        email="bad",
        phone_number="x",
        timezone="Nowhere/Town",
    )
    assert {m["field"] for m in payload["messages"]} == {
        "first_name",
        "email",
        "phone_number",
        "timezone",
    }
    assert await user_snapshot(database, world.a.patient_id) == before


@pytest.mark.parametrize(
    ("raw_id", "field"),
    [("999999", "id"), ("abc", "id"), ("", "id"), (None, "id"), ("-3", "id")],
)
async def test_missing_or_malformed_id_is_a_message(
    api: Api, world: World, database: Database, raw_id: str | None, field: str
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(api, world.a.provider.api_key, id=raw_id, first_name="Renamed")
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == [field]
    assert await user_snapshot(database, world.a.patient_id) == before


# --- who may update whom --------------------------------------------------------------------


async def test_patient_of_another_organization_answers_like_a_missing_one(
    api: Api, world: World, database: Database
) -> None:
    key = world.a.provider.api_key
    before = await user_snapshot(database, world.b.patient_id)
    other_org = await _update(api, key, id=str(world.b.patient_id), first_name="Hijacked")
    missing = await _update(api, key, id="987654321", first_name="Hijacked")
    assert other_org == missing == {"user": None, "messages": NOT_FOUND}
    assert await user_snapshot(database, world.b.patient_id) == before


async def test_staff_of_another_organization_cannot_archive_a_patient(
    api: Api, world: World, database: Database
) -> None:
    payload = await _update(api, world.b.staff.api_key, id=str(world.a.patient_id), active=False)
    assert payload == {"user": None, "messages": NOT_FOUND}
    assert (await user_row(database, world.a.patient_id)).active is True


async def test_providers_and_staff_are_not_clients(
    api: Api, world: World, database: Database
) -> None:
    for target in (world.a.staff.user_id, world.a.provider.user_id):
        before = await user_snapshot(database, target)
        payload = await _update(api, world.a.provider.api_key, id=str(target), first_name="X")
        assert payload == {"user": None, "messages": NOT_FOUND}
        assert await user_snapshot(database, target) == before


async def test_staff_member_updates_their_organizations_patients(
    api: Api, world: World, database: Database
) -> None:
    payload = await _update(
        api, world.a.staff.api_key, id=str(world.a.other_patient_id), first_name="Staffed"
    )
    assert payload["messages"] is None
    assert (await user_row(database, world.a.other_patient_id)).first_name == "Staffed"


async def test_patient_is_forbidden(api: Api, world: World, database: Database) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    variables = {"id": str(world.a.patient_id), "first_name": "Self"}
    codes = await api.with_token(world.a.patient_token).error_codes(UPDATE_CLIENT, variables)
    assert codes == ["FORBIDDEN"]
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_anonymous_is_unauthenticated(api: Api, world: World, database: Database) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    variables = {"id": str(world.a.patient_id), "first_name": "Anon"}
    assert await api.error_codes(UPDATE_CLIENT, variables) == ["UNAUTHENTICATED"]
    assert await api.with_key("not-a-key").error_codes(UPDATE_CLIENT, variables) == [
        "UNAUTHENTICATED"
    ]
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_id_and_a_current_email_of_someone_else_change_no_one(
    api: Api, world: World, database: Database
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        current_email="other.a@example.com",  # the practice's other patient
        first_name="Mixed",
    )
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == ["current_email"]
    assert await user_snapshot(database, world.a.patient_id) == before
    both = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        current_email="Patient.A@example.com",
        first_name="Same",
    )
    assert both["messages"] is None and both["user"]["first_name"] == "Same"
