"""updateClient's and updateUser's ``locations`` (and updateClient's ``location``): a patient's
addresses written with the rest of their record, all or nothing, as Healthie's
ClientLocationInput declares them (no id: new; id: changed; id and _destroy: deleted)."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.db import count, user_row
from tests.support.world import World

from carebook.db.engine import Database
from carebook.locations.models import Location

UPDATE_CLIENT = """mutation($input: updateClientInput!) { updateClient(input: $input) {
  user { id legal_name locations { id name line1 city state zip country } }
  messages { field message } } }"""
UPDATE_USER = """mutation($input: updateUserInput!) { updateUser(input: $input) {
  user { id locations { id name city state zip } } messages { field message } } }"""

HOME = {"name": "Home", "line1": "1 Main St", "city": "Albany", "state": "NY", "zip": "12207"}
WORK = {"name": "Work", "line1": "2 Side St", "city": "Troy", "state": "NY", "zip": "12180"}


async def _update(api: Api, world: World, **fields: Any) -> dict[str, Any]:
    data = await api.with_key(world.a.provider.api_key).data(UPDATE_CLIENT, {"input": fields})
    payload: dict[str, Any] = data["updateClient"]
    return payload


def _addresses(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(loc["name"], loc["city"]) for loc in payload["user"]["locations"]]


async def test_locations_are_added_changed_and_deleted(api: Api, world: World) -> None:
    patient_id = str(world.a.patient_id)
    created = await _update(api, world, id=patient_id, locations=[HOME, WORK])
    assert not created["messages"]
    assert _addresses(created) == [("Home", "Albany"), ("Work", "Troy")]
    assert created["user"]["locations"][0]["country"] == "US"
    home, work = (loc["id"] for loc in created["user"]["locations"])
    changed = await _update(
        api,
        world,
        id=patient_id,
        locations=[
            {"id": home, "city": "Schenectady", "zip": "12305"},
            {"id": work, "_destroy": True},
        ],
    )
    assert not changed["messages"]
    assert _addresses(changed) == [("Home", "Schenectady")]
    assert changed["user"]["locations"][0]["line1"] == "1 Main St"  # not sent: kept


async def test_the_single_location_input_adds_one_too(api: Api, world: World) -> None:
    payload = await _update(api, world, id=str(world.a.patient_id), location=HOME, locations=[WORK])
    assert sorted(_addresses(payload)) == [("Home", "Albany"), ("Work", "Troy")]


async def test_a_wrong_entry_writes_nothing_at_all(
    api: Api, world: World, database: Database
) -> None:
    patient_id = str(world.a.patient_id)
    other = await _update(api, world, id=str(world.a.other_patient_id), locations=[HOME])
    others_location = other["user"]["locations"][0]["id"]
    before = await count(database, Location)
    for entries, field in [
        ([WORK, {"id": others_location, "city": "Elsewhere"}], "locations"),  # another's
        ([WORK, {"id": "999999", "_destroy": True}], "locations"),  # nobody's
        ([{**WORK, "zip": "ABCDE"}], "zip"),  # not a US zip
    ]:
        payload = await _update(api, world, id=patient_id, legal_name="Changed", locations=entries)
        assert payload["user"] is None
        assert [m["field"] for m in payload["messages"]] == [field], entries
    assert await count(database, Location) == before
    assert (await user_row(database, world.a.patient_id)).legal_name != "Changed"
    again = await api.with_key(world.a.provider.api_key).data(
        "query($id: ID) { user(id: $id) { locations { city } } }",
        {"id": str(world.a.other_patient_id)},
    )
    assert again["user"]["locations"] == [{"city": "Albany"}]


async def test_a_patient_adds_their_own_location_with_update_user(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    data = await patient.data(UPDATE_USER, {"input": {"locations": [HOME]}})
    assert not data["updateUser"]["messages"]
    assert [loc["name"] for loc in data["updateUser"]["user"]["locations"]] == ["Home"]
