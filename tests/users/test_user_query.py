"""The user query (the seed's getUser): who may read whom, and the fields of the patient record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.support.api import Api
from tests.support.auth_helpers import get_row
from tests.support.seed_documents import BULK_UPDATE_CLIENTS, GET_USER
from tests.support.world import World

from carebook.db.engine import Database
from carebook.organizations.models import Organization

OR_CURRENT_USER = "query($id: ID) { user(id: $id, or_current_user: true) { id } }"
NOT_FOUND = {"data": {"user": None}}
RECORD = """query($id: ID) { user(id: $id) {
  id full_name active archived_at age
  dietitian { id } providers { id } user_group { id name } organization { id name } } }"""
CREATE = """mutation($input: createClientInput) { createClient(input: $input) {
  user { id } messages { field message } } }"""


async def get_user(api: Api, user_id: int | str | None) -> dict[str, Any]:
    """The whole JSON response to the seed's getUser document."""
    return await api.post(GET_USER, {"id": None if user_id is None else str(user_id)})


async def create_patient(api: Api, **fields: Any) -> str:
    """A patient created through createClient by the given caller; their id."""
    variables = {"first_name": "Zoë", "last_name": "Nguyen", "skipped_email": True, **fields}
    data = await api.data(CREATE, {"input": variables})
    assert data["createClient"]["messages"] is None, data
    user_id: str = data["createClient"]["user"]["id"]
    return user_id


async def test_provider_reads_a_patient_of_their_organization(api: Api, world: World) -> None:
    body = await get_user(api.with_key(world.a.provider.api_key), world.a.patient_id)
    assert body == {
        "data": {
            "user": {
                "id": str(world.a.patient_id),
                "first_name": "Pat",
                "last_name": "IentA",
                "dob": None,
                "gender": None,
                "email": "patient.a@example.com",
                "phone_number": None,
                "next_appt_date": None,
            }
        }
    }


async def test_staff_reads_a_patient_of_their_organization(api: Api, world: World) -> None:
    body = await get_user(api.with_key(world.a.staff.api_key), world.a.other_patient_id)
    assert body["data"]["user"]["id"] == str(world.a.other_patient_id)


async def test_another_organizations_patient_answers_like_a_missing_one(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    other_org = await get_user(provider, world.b.patient_id)
    missing = await get_user(provider, 999999)
    assert other_org == missing == NOT_FOUND


async def test_another_organizations_provider_answers_like_a_missing_one(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    assert await get_user(provider, world.b.provider.user_id) == NOT_FOUND


async def test_malformed_ids_answer_null_without_errors(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for bad in ["abc", "-1", "1.5", "", "  ", "9900x", "99999999999", "9" * 40]:
        assert await get_user(provider, bad) == NOT_FOUND, bad
    assert await get_user(provider, None) == NOT_FOUND


async def test_or_current_user_returns_the_caller_for_a_missing_or_invalid_id(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    me = {"data": {"user": {"id": str(world.a.provider.user_id)}}}
    for user_id in [None, "", "abc", "999999", "99999999999", str(world.b.patient_id)]:
        assert await provider.post(OR_CURRENT_USER, {"id": user_id}) == me, user_id


async def test_or_current_user_still_returns_a_visible_user(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(OR_CURRENT_USER, {"id": str(world.a.patient_id)})
    assert data["user"] == {"id": str(world.a.patient_id)}


async def test_patient_reads_themselves_only(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    me = await get_user(patient, world.a.patient_id)
    assert me["data"]["user"]["email"] == "patient.a@example.com"
    assert await get_user(patient, world.a.other_patient_id) == NOT_FOUND
    assert await get_user(patient, world.b.patient_id) == NOT_FOUND
    data = await patient.data(OR_CURRENT_USER, {"id": str(world.a.other_patient_id)})
    assert data["user"] == {"id": str(world.a.patient_id)}


async def test_anonymous_caller_is_unauthenticated(api: Api, world: World) -> None:
    body = await get_user(api, world.a.patient_id)
    assert body["data"] == {"user": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_record_fields_of_a_patient(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    # The primary provider has the higher id, so "primary first" differs from id order.
    assert world.a.staff.user_id > world.a.provider.user_id
    patient_id = await create_patient(
        provider,
        dietitian_id=str(world.a.staff.user_id),
        other_provider_ids=[str(world.a.provider.user_id)],
        user_group_id=str(world.a.group_id),
    )
    organization = await get_row(database, Organization, world.a.provider.organization_id)
    data = await provider.data(RECORD, {"id": patient_id})
    assert data["user"] == {
        "id": patient_id,
        "full_name": "Zoë Nguyen",
        "active": True,
        "archived_at": None,
        "age": None,
        "dietitian": {"id": str(world.a.staff.user_id)},
        "providers": [{"id": str(world.a.staff.user_id)}, {"id": str(world.a.provider.user_id)}],
        "user_group": {"id": str(world.a.group_id), "name": "Group a"},
        "organization": {"id": str(organization.id), "name": organization.name},
    }


async def test_patient_without_group_or_care_team(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(RECORD, {"id": str(world.a.patient_id)})
    assert data["user"]["user_group"] is None
    assert data["user"]["dietitian"] == {"id": str(world.a.provider.user_id)}
    assert data["user"]["providers"] == [{"id": str(world.a.provider.user_id)}]


def _years_ago(years: int, *, days_later: int) -> date:
    """The date ``years`` before today, moved ``days_later`` days forward (Feb 29 safe)."""
    day = date.today() + timedelta(days=days_later)
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # Feb 29 in a year without one: the nearest day on the same side of today
        step = timedelta(days=1 if days_later > 0 else -1)
        return (day + step).replace(year=day.year - years)


async def test_age_counts_whole_years(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    cases = {"30": _years_ago(30, days_later=0), "29": _years_ago(30, days_later=1)}
    for expected, dob in cases.items():
        patient_id = await create_patient(provider, dob=dob.isoformat())
        data = await provider.data(RECORD, {"id": patient_id})
        assert data["user"]["age"] == expected, dob


async def test_archived_patient_shows_inactive_with_archived_at(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    variables = {"ids": [str(world.a.patient_id)], "active_status": False}
    archived = await provider.data(BULK_UPDATE_CLIENTS, variables)
    assert archived["bulkUpdateClients"]["messages"] is None
    user = (await provider.data(RECORD, {"id": str(world.a.patient_id)}))["user"]
    assert user["active"] is False
    archived_at = user["archived_at"]
    assert archived_at
    assert date.fromisoformat(archived_at[:10]) >= date.today() - timedelta(days=1)
