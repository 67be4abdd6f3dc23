"""The patient record integrations read and write: quick notes, a second phone, height and
weight, human_id, the demographics codes, and the fields derived from the record.

Written in the image of the public Healthie integrations: a staff member's ``updateClient``
and ``user(id)`` documents, a patient's own ``updateUser``, and the quick-notes action that
reads the notes, appends to them and writes them back.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.api import Api
from tests.support.db import statements_sent, user_row, user_snapshot
from tests.support.world import World

from carebook.db.engine import Database

RECORD = """ id quick_notes additional_phone_number height weight human_id
  preferred_language preferred_language_code primary_race primary_race_code
  secondary_race secondary_race_code primary_ethnicity primary_ethnicity_code
  secondary_ethnicity secondary_ethnicity_code sexual_orientation sexual_orientation_code
  sexual_orientation_other gender_identity_code """

UPDATE_CLIENT = (
    "mutation($input: updateClientInput!) { updateClient(input: $input) { user {"
    + RECORD
    + "} messages { field message } } }"
)
UPDATE_USER = (
    "mutation($input: updateUserInput!) { updateUser(input: $input) { user {"
    + RECORD
    + "} messages { field message } } }"
)
USER = "query($id: ID) { user(id: $id) {" + RECORD + "} }"
USERS = "query($ids: [ID]) { users(ids: $ids, page_size: 10) {" + RECORD + "} }"

# In the image of an integration's quick-notes action: read, then write back with more.
GET_NOTES = "query getUser($id: ID) { user(id: $id) { id quick_notes } }"
SET_NOTES = """mutation updatePatient($input: updateClientInput!) {
  updateClient(input: $input) { user { id quick_notes } messages { field message } } }"""

EVERYTHING = {
    "quick_notes": "Prefers mornings.\n  Allergic to penicillin.",
    "additional_phone_number": "(555) 444-2255",
    "height": "68.5",
    "weight": "150",
    "preferred_language_code": "spa",
    "primary_race_code": "2106-3",
    "secondary_race_code": "2028-9",
    "primary_ethnicity_code": "2135-2",
    "secondary_ethnicity_code": "2148-5",
    "sexual_orientation_code": "OTH",
    "sexual_orientation_other": "Pansexual",
    "gender_identity_code": "446141000124107",
}

READ_BACK = {
    "quick_notes": "Prefers mornings.\n  Allergic to penicillin.",
    "additional_phone_number": "+15554442255",
    "height": 68.5,
    "weight": "150",
    "human_id": None,
    "preferred_language": "Spanish",
    "preferred_language_code": "es",
    "primary_race": "White",
    "primary_race_code": "2106-3",
    "secondary_race": "Asian",
    "secondary_race_code": "2028-9",
    "primary_ethnicity": "Hispanic or Latino",
    "primary_ethnicity_code": "2135-2",
    "secondary_ethnicity": "Mexican",
    "secondary_ethnicity_code": "2148-5",
    "sexual_orientation": "Something else, please describe",
    "sexual_orientation_code": "OTH",
    "sexual_orientation_other": "Pansexual",
    "gender_identity_code": "446141000124107",
}

EMPTY = dict.fromkeys(READ_BACK)


async def _update_client(api: Api, key: str, **fields: Any) -> dict[str, Any]:
    data = await api.with_key(key).data(UPDATE_CLIENT, {"input": fields})
    payload: dict[str, Any] = data["updateClient"]
    return payload


def _record(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "id"}


# --- written by updateClient, read on every path --------------------------------------------


async def test_update_client_writes_every_field_and_each_read_path_shows_it(
    api: Api, world: World, database: Database
) -> None:
    key = world.a.provider.api_key
    payload = await _update_client(api, key, id=str(world.a.patient_id), **EVERYTHING)
    assert not payload["messages"]
    assert _record(payload["user"]) == READ_BACK
    provider = api.with_key(key)
    # user(id): the single-row read that carries the record's columns.
    one = (await provider.data(USER, {"id": str(world.a.patient_id)}))["user"]
    assert _record(one) == READ_BACK
    # users: a page reads them through the DataLoader; the other patient has none.
    ids = [str(world.a.patient_id), str(world.a.other_patient_id)]
    page = {u["id"]: _record(u) for u in (await provider.data(USERS, {"ids": ids}))["users"]}
    assert page == {ids[0]: READ_BACK, ids[1]: EMPTY}
    row = await user_row(database, world.a.patient_id)
    assert (row.height, row.weight) == (68.5, 150.0)
    assert row.preferred_language_code == "es"


async def test_blank_values_clear_the_fields(api: Api, world: World) -> None:
    key = world.a.provider.api_key
    await _update_client(api, key, id=str(world.a.patient_id), **EVERYTHING)
    cleared = dict.fromkeys(EVERYTHING, "")
    payload = await _update_client(api, key, id=str(world.a.patient_id), **cleared)
    assert not payload["messages"]
    assert _record(payload["user"]) == EMPTY


async def test_fields_not_sent_are_kept(api: Api, world: World) -> None:
    key = world.a.provider.api_key
    await _update_client(api, key, id=str(world.a.patient_id), **EVERYTHING)
    payload = await _update_client(api, key, id=str(world.a.patient_id), height="70")
    assert _record(payload["user"]) == {**READ_BACK, "height": 70.0}


async def test_measures_read_back_as_entered(api: Api, world: World) -> None:
    payload = await _update_client(
        api, world.a.provider.api_key, id=str(world.a.patient_id), height="71", weight="1499.75"
    )
    assert (payload["user"]["height"], payload["user"]["weight"]) == (71.0, "1499.75")


async def test_codes_are_matched_as_their_code_systems_write_them(api: Api, world: World) -> None:
    payload = await _update_client(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        primary_race_code="asku",
        primary_ethnicity_code=" 2186-5 ",
        preferred_language_code="EN-us",
        sexual_orientation_code="20430005",
        gender_identity_code="unk",
    )
    user = payload["user"]
    assert (user["primary_race_code"], user["primary_race"]) == ("ASKU", "Declined to specify")
    assert user["primary_ethnicity"] == "Not Hispanic or Latino"
    assert (user["preferred_language_code"], user["preferred_language"]) == ("en-US", "English")
    assert user["sexual_orientation"] == "Straight or heterosexual"
    assert user["gender_identity_code"] == "UNK"


# --- wrong values: a message each, nothing written -------------------------------------------

WRONG = [
    ("primary_race_code", "2135-2"),  # an ethnicity, not a race
    ("secondary_race_code", "9999-9"),
    ("primary_ethnicity_code", "2106-3"),  # a race, not an ethnicity
    ("secondary_ethnicity_code", "hispanic"),
    ("preferred_language_code", "english"),
    ("preferred_language_code", "en-ZZ"),
    ("sexual_orientation_code", "446141000124107"),  # a gender identity code
    ("gender_identity_code", "38628009"),  # an orientation code
    ("height", "five foot ten"),
    ("height", "-3"),
    ("height", "nan"),
    ("weight", "0"),
    ("weight", "inf"),
    ("additional_phone_number", "12"),
    ("quick_notes", "x" * 10_001),
    ("sexual_orientation_other", "x" * 201),
]


@pytest.mark.parametrize(("field", "value"), WRONG)
async def test_a_wrong_value_is_a_message_on_its_field_and_changes_nothing(
    api: Api, world: World, database: Database, field: str, value: str
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update_client(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        legal_name="Changed",
        **{field: value},
    )
    assert payload["user"] is None
    assert [m["field"] for m in payload["messages"]] == [field]
    assert payload["messages"][0]["message"]
    assert await user_snapshot(database, world.a.patient_id) == before


async def test_every_wrong_code_is_reported_at_once(api: Api, world: World) -> None:
    payload = await _update_client(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        primary_race_code="1",
        primary_ethnicity_code="2",
        gender_identity_code="3",
    )
    assert {m["field"]: m["message"] for m in payload["messages"]} == {
        "primary_race_code": "'1' is not a CDC race code (for example 2106-3 (White))",
        "primary_ethnicity_code": (
            "'2' is not a CDC ethnicity code (for example 2186-5 (Not Hispanic or Latino))"
        ),
        "gender_identity_code": (
            "'3' is not a gender identity code (for example 446141000124107 (Identifies as female))"
        ),
    }


# --- the patient's own updateUser, and who reads what -----------------------------------------


async def test_a_patient_writes_their_own_demographics_with_update_user(
    api: Api, world: World
) -> None:
    patient = api.with_token(world.a.patient_token)
    data = await patient.data(
        UPDATE_USER,
        {
            "input": {
                "human_id": "hum-123",
                "preferred_language_code": "fr",
                "primary_race_code": "2054-5",
                # Healthie types it Int on updateUserInput: the CDC code without its hyphen.
                "secondary_ethnicity_code": 21865,
                "sexual_orientation_code": "ASKU",
                "gender_identity_code": "33791000087105",
            }
        },
    )
    user = data["updateUser"]["user"]
    assert not data["updateUser"]["messages"]
    # The id another system knows them by is the practice's to set (integrations match on it).
    assert user["human_id"] is None
    assert user["preferred_language"] == "French"
    assert user["primary_race"] == "Black or African American"
    assert user["secondary_ethnicity_code"] == "2186-5"
    assert user["sexual_orientation"] == "Choose not to disclose"
    assert user["gender_identity_code"] == "33791000087105"


async def test_update_user_refuses_a_wrong_int_ethnicity(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    data = await patient.data(UPDATE_USER, {"input": {"secondary_ethnicity_code": 99999}})
    assert data["updateUser"]["user"] is None
    assert [m["field"] for m in data["updateUser"]["messages"]] == ["secondary_ethnicity_code"]


async def test_quick_notes_are_for_the_practice_not_for_the_patient(api: Api, world: World) -> None:
    await _update_client(api, world.a.provider.api_key, id=str(world.a.patient_id), **EVERYTHING)
    patient = api.with_token(world.a.patient_token)
    own = (await patient.data(USER, {"id": str(world.a.patient_id)}))["user"]
    assert own["quick_notes"] is None
    assert _record(own) == {**READ_BACK, "quick_notes": None}
    staff = api.with_key(world.a.staff.api_key)
    assert (await staff.data(GET_NOTES, {"id": str(world.a.patient_id)}))["user"] == {
        "id": str(world.a.patient_id),
        "quick_notes": EVERYTHING["quick_notes"],
    }


async def test_update_user_has_no_quick_notes_to_write(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    body = await patient.post(UPDATE_USER, {"input": {"quick_notes": "I wrote this"}})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_another_patients_record_stays_out_of_reach(api: Api, world: World) -> None:
    await _update_client(
        api, world.a.provider.api_key, id=str(world.a.other_patient_id), **EVERYTHING
    )
    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(USER, {"id": str(world.a.other_patient_id)}))["user"] is None
    other_org = api.with_key(world.b.provider.api_key)
    assert (await other_org.data(USER, {"id": str(world.a.other_patient_id)}))["user"] is None


# --- the integration's quick-notes action ------------------------------------------------------


async def test_quick_notes_appended_as_an_integration_does(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient_id = str(world.a.patient_id)
    for note in ["Called on Monday. ", "Booked a follow-up."]:
        current = (await provider.data(GET_NOTES, {"id": patient_id}))["user"]["quick_notes"]
        data = await provider.data(
            SET_NOTES, {"input": {"id": patient_id, "quick_notes": (current or "") + note}}
        )
        assert not data["updateClient"]["messages"]
    final = (await provider.data(GET_NOTES, {"id": patient_id}))["user"]["quick_notes"]
    assert final == "Called on Monday. Booked a follow-up."


async def test_update_client_finds_the_patient_by_current_email(
    api: Api, world: World, database: Database
) -> None:
    payload = await _update_client(
        api, world.a.provider.api_key, current_email="Patient.A@example.com", height="64"
    )
    assert payload["user"]["id"] == str(world.a.patient_id)
    assert (await user_row(database, world.a.patient_id)).height == 64.0
    # Another organization's patient's email names nobody here.
    missing = await _update_client(
        api, world.a.provider.api_key, current_email="patient.b@example.com", height="64"
    )
    assert missing["messages"] == [{"field": "current_email", "message": "User not found"}]


# --- the derived fields --------------------------------------------------------------------

DERIVED = """query($id: ID) { user(id: $id) {
  first_name_last_initial full_legal_name full_legal_name_with_preferred doc_share_id
  group_name } }"""


async def test_the_derived_fields(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient_id = str(world.a.patient_id)
    await _update_client(
        api,
        world.a.provider.api_key,
        id=patient_id,
        legal_name="Patricia",
        user_group_id=str(world.a.group_id),
    )
    assert (await provider.data(DERIVED, {"id": patient_id}))["user"] == {
        "first_name_last_initial": "Pat I.",
        "full_legal_name": "Patricia IentA",
        "full_legal_name_with_preferred": "Patricia (Pat) IentA",
        "doc_share_id": f"user-{patient_id}",
        "group_name": "Group a",
    }
    await _update_client(api, world.a.provider.api_key, id=patient_id, user_group_id="")
    assert (await provider.data(DERIVED, {"id": patient_id}))["user"]["group_name"] is None


# --- the users list: the record costs nothing unless selected ---------------------------------

PLAIN_PAGE = "query { users(page_size: 10) { id first_name last_name email dob } }"
RECORD_PAGE = "query { users(page_size: 10) { id quick_notes primary_race height } }"


async def test_the_users_page_reads_the_record_only_when_selected(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await provider.data(PLAIN_PAGE)  # warm: the first request also reads the key
    with statements_sent(database) as plain:
        await provider.data(PLAIN_PAGE)
    assert not [s for s in plain if "quick_notes" in s]
    with statements_sent(database) as with_record:
        data = await provider.data(RECORD_PAGE)
    assert len(data["users"]) >= 2
    # Read with the page's own rows (issue 28: only the selected columns), not once per user.
    assert len([s for s in with_record if "quick_notes" in s]) == 1
    assert len(with_record) == len(plain)


async def test_doc_share_id_is_what_a_conversation_is_shared_with(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    share = (await provider.data(DERIVED, {"id": str(world.a.patient_id)}))["user"]
    data = await provider.data(
        """mutation($users: String) { createConversation(input: {simple_added_users: $users}) {
          conversation { users { id } } messages { field message } } }""",
        {"users": share["doc_share_id"]},
    )
    conversation = data["createConversation"]["conversation"]
    assert str(world.a.patient_id) in [u["id"] for u in conversation["users"]]
