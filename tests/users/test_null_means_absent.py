"""Healthie's rule, kept where GraphQL inputs become service inputs: an explicit null in an
input leaves the stored value as it is, exactly like a field left out; a value sets it.

Checked on the stored rows, through updateClient (patients) and updateLocation (a service of
another domain), with fields whose null would otherwise clear a stored value."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.db import user_snapshot
from tests.support.world import World

from carebook.db.engine import Database
from carebook.locations.models import Location

UPDATE_CLIENT = """mutation($input: updateClientInput) { updateClient(input: $input) {
  user { id } messages { field message } } }"""

CREATE_LOCATION = """mutation($input: createLocationInput) { createLocation(input: $input) {
  location { id } messages { field message } } }"""

UPDATE_LOCATION = """mutation($input: updateLocationInput) { updateLocation(input: $input) {
  location { id } messages { field message } } }"""


async def _call(api: Api, query: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = next(iter((await api.data(query, {"input": fields})).values()))
    assert payload["messages"] is None, payload
    return payload


async def test_update_client_null_and_omitted_keep_the_stored_values(
    api: Api, world: World, database: Database
) -> None:
    staff, patient = api.with_key(world.a.provider.api_key), world.a.patient_id
    filled = {"legal_name": "Jonathan", "pronouns": "he/him", "dob": "1990-02-03"}
    await _call(staff, UPDATE_CLIENT, id=str(patient), **filled)
    before = await user_snapshot(database, patient)

    await _call(staff, UPDATE_CLIENT, id=str(patient), legal_name=None, dob=None, sex="M")

    after = await user_snapshot(database, patient)
    assert (after["legal_name"], after["pronouns"], after["dob"]) == (
        before["legal_name"],
        before["pronouns"],
        before["dob"],
    )
    assert before["legal_name"] == "Jonathan"  # so "unchanged" is not "never set"
    assert after["sex"] == "M"
    assert {k: v for k, v in after.items() if k not in ("sex", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("sex", "updated_at")
    }


async def test_update_client_with_only_nulls_changes_nothing(
    api: Api, world: World, database: Database
) -> None:
    staff, patient = api.with_key(world.a.provider.api_key), world.a.patient_id
    await _call(staff, UPDATE_CLIENT, id=str(patient), phone_number="+1 212 555 0100")
    before = await user_snapshot(database, patient)
    nulls = dict.fromkeys(("phone_number", "email", "dietitian_id", "user_group_id", "active"))
    await _call(staff, UPDATE_CLIENT, id=str(patient), **nulls)
    assert await user_snapshot(database, patient) == before


async def _location(database: Database, location_id: int) -> dict[str, Any]:
    async with database.read_sessions() as session:
        row = await session.get_one(Location, location_id)
        return {"line2": row.line2, "name": row.name, "city": row.city, "npi": row.npi}


async def test_update_location_null_and_omitted_keep_the_stored_values(
    api: Api, world: World, database: Database
) -> None:
    patient = api.with_token(world.a.patient_token)
    created = await _call(
        patient, CREATE_LOCATION, name="Home", line1="1 Main St", line2="Unit 5", npi="1234567893"
    )
    location_id = int(created["location"]["id"])

    await _call(patient, UPDATE_LOCATION, id=str(location_id), line2=None, npi=None, city="Albany")

    assert await _location(database, location_id) == {
        "line2": "Unit 5",
        "name": "Home",
        "city": "Albany",
        "npi": "1234567893",
    }
