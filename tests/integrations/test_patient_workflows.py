"""A Healthie integration's patient workflows, run over HTTP against Carebook.

Written in the image of a public Healthie integration (an automation platform's Healthie
extension): the same root fields, arguments, selections and variables as its actions send
(create, read, update, archive and regroup a patient; append to quick notes; apply, check and
remove a tag; read an applied tag; add a location; fetch the set-password link), and what its
code then does with the answer: ids compared as strings, dates parsed with Healthie's
``yyyy-MM-dd HH:mm:ss ±hhmm`` pattern, ``messages`` read as absent when null. The documents are
our own; each is first validated against the committed schema.graphql, as a typed client's code
generator would.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate
from tests.support.api import Api
from tests.support.world import World

SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"
HEALTHIE_TIME = "%Y-%m-%d %H:%M:%S %z"

CREATE_PATIENT = """
mutation addPatient($input: createClientInput!) {
  createClient(input: $input) { user { id set_password_link } messages { field message } }
}"""
GET_PATIENT = """
query patient($id: ID) {
  user(id: $id) {
    id first_name last_name dob gender email phone_number next_appt_date dietitian_id
    quick_notes created_at updated_at
    user_group { id name }
    providers { id active first_name last_name email }
    active_tags { id }
  }
}"""
UPDATE_PATIENT = """
mutation changePatient($input: updateClientInput!) {
  updateClient(input: $input) {
    user { id first_name last_name legal_name email quick_notes active user_group_id }
    messages { field message }
  }
}"""
APPLY_TAG = """
mutation tagPatient($ids: [ID], $taggable_user_id: ID) {
  bulkApply(input: { ids: $ids, taggable_user_id: $taggable_user_id }) {
    tags { id name } messages { field message }
  }
}"""
REMOVE_TAG = """
mutation untagPatient($id: ID, $taggable_user_id: ID) {
  removeAppliedTag(input: { id: $id, taggable_user_id: $taggable_user_id }) {
    tag { id name } messages { field message }
  }
}"""
APPLIED_TAG = """
query oneAppliedTag($id: ID!, $include_deleted: Boolean = false) {
  appliedTag(id: $id, include_deleted: $include_deleted) {
    id tag_id user_id created_at updated_at
  }
}"""
APPLIED_TAGS_OF = """
query tagsOf($id: ID) { appliedTags(id: $id) { id tag_id user_id } }
"""
CREATE_TAG = """
mutation newTag($name: String) {
  createTag(input: { name: $name }) { tag { id } messages { field message } }
}"""
CREATE_LOCATION = """
mutation addLocation($input: createLocationInput!) {
  createLocation(input: $input) { location { id name line1 zip } messages { field message } }
}"""
SET_PASSWORD_LINK = "query link($id: ID) { user(id: $id) { set_password_link } }"

DOCUMENTS = [
    CREATE_PATIENT,
    GET_PATIENT,
    UPDATE_PATIENT,
    APPLY_TAG,
    REMOVE_TAG,
    APPLIED_TAG,
    APPLIED_TAGS_OF,
    CREATE_TAG,
    CREATE_LOCATION,
    SET_PASSWORD_LINK,
]


@cache
def _schema() -> GraphQLSchema:
    return build_schema(SCHEMA.read_text())


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.split("(")[0].split()[-1])
def test_the_document_validates_against_the_schema(document: str) -> None:
    assert [error.message for error in validate(_schema(), parse(document))] == []


def _healthie_time(value: str) -> datetime:
    """What the integration does with a Healthie time string: parse the one pattern or fail."""
    return datetime.strptime(value, HEALTHIE_TIME)


async def _create(provider: Api, world: World, **fields: Any) -> dict[str, Any]:
    input_ = {
        "first_name": "Rosa",
        "last_name": "Parkes",
        "legal_name": "Rosa L. Parkes",
        "email": "rosa.parkes@example.com",
        "phone_number": "+1 415 555 0134",
        "dob": "1980-02-29",
        "dietitian_id": str(world.a.provider.user_id),
        "dont_send_welcome": True,
        "skipped_email": False,
        "record_identifier": "MRN-0042",
        "additional_record_identifier": "EXT-7",
    } | fields
    payload: dict[str, Any] = (await provider.data(CREATE_PATIENT, {"input": input_}))[
        "createClient"
    ]
    return payload


async def test_create_then_get_a_patient_as_the_integration_reads_it(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    created = await _create(provider, world)
    assert created["messages"] is None
    patient_id = created["user"]["id"]
    assert isinstance(patient_id, str) and patient_id.isdigit()
    assert created["user"]["set_password_link"].startswith("http")

    user = (await provider.data(GET_PATIENT, {"id": patient_id}))["user"]
    assert (user["first_name"], user["last_name"], user["dob"]) == ("Rosa", "Parkes", "1980-02-29")
    assert user["dietitian_id"] == str(world.a.provider.user_id)
    assert [p["id"] for p in user["providers"]] == [str(world.a.provider.user_id)]
    assert user["active_tags"] == []
    assert user["quick_notes"] in (None, "")
    created_at = _healthie_time(user["created_at"])
    assert _healthie_time(user["updated_at"]) >= created_at


async def test_a_patient_without_an_email_is_created_when_the_email_is_skipped(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    created = await _create(provider, world, email="", skipped_email=True)
    assert created["messages"] is None
    assert created["user"]["id"]


async def test_update_archive_and_regroup_as_the_integration_sends_them(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient_id = str(world.a.patient_id)
    changed = (
        await provider.data(
            UPDATE_PATIENT,
            {
                "input": {
                    "id": patient_id,
                    "first_name": "Patricia",
                    "gender": "Female",
                    "height": "67",  # inches, as Healthie keeps it
                    "user_group_id": str(world.a.group_id),
                    "dob": "1975-06-01",
                    "record_identifier": "MRN-1",
                }
            },
        )
    )["updateClient"]
    assert changed["messages"] is None
    assert changed["user"]["first_name"] == "Patricia"
    assert changed["user"]["user_group_id"] == str(world.a.group_id)

    # "" takes the patient out of their group, as Healthie documents.
    regrouped = await provider.data(
        UPDATE_PATIENT, {"input": {"id": patient_id, "user_group_id": ""}}
    )
    assert regrouped["updateClient"]["user"]["user_group_id"] in (None, "")

    archived = await provider.data(UPDATE_PATIENT, {"input": {"id": patient_id, "active": False}})
    assert archived["updateClient"]["user"]["active"] is False


async def test_quick_notes_are_appended_by_reading_then_writing(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient_id = str(world.a.patient_id)
    await provider.data(UPDATE_PATIENT, {"input": {"id": patient_id, "quick_notes": "Allergic."}})
    current = (await provider.data(GET_PATIENT, {"id": patient_id}))["user"]["quick_notes"]
    appended = current + " Prefers mornings."
    result = await provider.data(
        UPDATE_PATIENT, {"input": {"id": patient_id, "quick_notes": appended}}
    )
    assert result["updateClient"]["user"]["quick_notes"] == "Allergic. Prefers mornings."


async def test_apply_check_read_and_remove_a_tag(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient_id = str(world.a.patient_id)
    tag_id = (await provider.data(CREATE_TAG, {"name": "High risk"}))["createTag"]["tag"]["id"]

    applied = await provider.data(APPLY_TAG, {"ids": [tag_id], "taggable_user_id": patient_id})
    assert applied["bulkApply"]["messages"] is None
    active = (await provider.data(GET_PATIENT, {"id": patient_id}))["user"]["active_tags"]
    assert any(tag["id"] == tag_id for tag in active)  # the integration compares as strings

    (record,) = (await provider.data(APPLIED_TAGS_OF, {"id": patient_id}))["appliedTags"]
    assert (record["tag_id"], record["user_id"]) == (tag_id, patient_id)
    read = (await provider.data(APPLIED_TAG, {"id": record["id"]}))["appliedTag"]
    assert read["id"] == record["id"]
    _healthie_time(read["created_at"])
    _healthie_time(read["updated_at"])

    removed = await provider.data(REMOVE_TAG, {"id": tag_id, "taggable_user_id": patient_id})
    assert removed["removeAppliedTag"]["tag"]["id"] == tag_id
    assert removed["removeAppliedTag"]["messages"] is None
    active = (await provider.data(GET_PATIENT, {"id": patient_id}))["user"]["active_tags"]
    assert all(tag["id"] != tag_id for tag in active)
    # Gone from the patient, still readable on request.
    assert (await provider.data(APPLIED_TAG, {"id": record["id"]}))["appliedTag"] is None
    kept = await provider.data(APPLIED_TAG, {"id": record["id"], "include_deleted": True})
    assert kept["appliedTag"]["tag_id"] == tag_id


async def test_another_organizations_applied_tag_is_not_readable(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    tag_id = (await provider.data(CREATE_TAG, {"name": "Private"}))["createTag"]["tag"]["id"]
    await provider.data(APPLY_TAG, {"ids": [tag_id], "taggable_user_id": str(world.a.patient_id)})
    (record,) = (await provider.data(APPLIED_TAGS_OF, {"id": str(world.a.patient_id)}))[
        "appliedTags"
    ]
    stranger = api.with_key(world.b.provider.api_key)
    answer = await stranger.post(APPLIED_TAG, {"id": record["id"], "include_deleted": True})
    assert (answer.get("data") or {}).get("appliedTag") is None


async def test_add_a_location_for_a_patient(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    variables = {
        "input": {
            "user_id": str(world.a.patient_id),
            "name": "Home",
            "country": "US",
            "state": "CA",
            "city": "San Francisco",
            "zip": "94110",
            "line1": "1 Valencia St",
            "line2": "",
        }
    }
    created = (await provider.data(CREATE_LOCATION, variables))["createLocation"]
    assert created["messages"] is None
    assert created["location"]["name"] == "Home"
    assert created["location"]["zip"] == "94110"


async def test_the_set_password_link_of_a_new_patient(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    created = await _create(provider, world, email="new.person@example.com")
    link = (await provider.data(SET_PASSWORD_LINK, {"id": created["user"]["id"]}))["user"]
    assert link["set_password_link"] == created["user"]["set_password_link"]
