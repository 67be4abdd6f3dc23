"""createLocation, updateLocation, deleteLocation: the seed's document, rules, who may do what."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.db import count
from tests.support.seed_tag_location_documents import CREATE_LOCATION
from tests.support.world import World

from carebook.db.engine import Database
from carebook.locations.models import Location

FULL = """mutation($input: createLocationInput) { createLocation(input: $input) {
  location { id name line1 line2 city state zip country npi other_id other_id_qual
             place_of_service_id to_oneline user_id user { id } }
  messages { field message } } }"""

UPDATE = """mutation($input: updateLocationInput) { updateLocation(input: $input) {
  location { id name line1 line2 city state zip country npi }
  messages { field message } } }"""

DELETE = """mutation($id: ID) { deleteLocation(input: {id: $id}) {
  location { id line1 } messages { field message } } }"""

SEED_VARIABLES = {
    "name": "Home",
    "line1": "1 Main Street",
    "zip": "10001",
    "city": "New York",
    "state": "NY",
    "npi": "1234567893",
}


async def _create(api: Api, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(FULL, {"input": fields}))["createLocation"]
    return payload


async def _location_id(api: Api, **fields: Any) -> str:
    payload = await _create(api, **{"line1": "1 Main Street", "state": "NY", **fields})
    assert payload["messages"] is None, payload
    location_id: str = payload["location"]["id"]
    return location_id


async def _row(database: Database, location_id: str) -> Location | None:
    async with database.read_sessions() as session:
        return await session.get(Location, int(location_id))


async def test_seed_document_creates_a_patients_location(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(
        CREATE_LOCATION, {"user_id": str(world.a.patient_id), **SEED_VARIABLES}
    )
    payload = data["createLocation"]
    assert payload["messages"] is None
    assert payload["location"] == {
        "id": payload["location"]["id"],
        "name": "Home",
        "line1": "1 Main Street",
        "zip": "10001",
    }
    row = await _row(database, payload["location"]["id"])
    assert row is not None
    assert (row.user_id, row.organization_id) == (
        world.a.patient_id,
        world.a.provider.organization_id,
    )
    assert (row.city, row.state, row.country, row.npi) == ("New York", "NY", "US", "1234567893")


async def test_every_healthie_field_is_stored(api: Api, world: World) -> None:
    payload = await _create(
        api.with_key(world.a.staff.api_key),
        user_id=str(world.a.patient_id),
        name="Clinic",
        line1=" 200 Elm St ",
        line2="Suite 4",
        city="Springfield",
        state="il",
        zip="627011234",
        npi="1234567893",
        other_id="X-1",
        other_id_qual="G2",
        place_of_service_id="11",
    )
    assert payload["messages"] is None
    assert payload["location"] == {
        "id": payload["location"]["id"],
        "name": "Clinic",
        "line1": "200 Elm St",
        "line2": "Suite 4",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701-1234",
        "country": "US",
        "npi": "1234567893",
        "other_id": "X-1",
        "other_id_qual": "G2",
        "place_of_service_id": "11",
        "to_oneline": "200 Elm St, Suite 4, Springfield, IL 62701-1234",
        "user_id": str(world.a.patient_id),
        "user": {"id": str(world.a.patient_id)},
    }


async def test_us_states_territories_and_state_names(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for given, stored in [
        ("CA", "CA"),
        ("dc", "DC"),
        ("PR", "PR"),
        ("GU", "GU"),
        ("VI", "VI"),
        ("AE", "AE"),
        ("New York", "NY"),
        (" district of columbia ", "DC"),
    ]:
        payload = await _create(provider, line1="1 Main St", state=given)
        assert payload["messages"] is None, given
        assert payload["location"]["state"] == stored


async def test_us_addresses_need_state_codes_and_zip_codes(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"state": "XX"}, "state", "'XX' is not a US state code (use two letters, e.g. NY or CA)"),
        ({"state": "Ontario"}, "state", "'Ontario' is not a US state code"),
        ({"state": "N.Y."}, "state", "'N.Y.' is not a US state code"),
        ({"zip": "1234"}, "zip", "'1234' is not a US ZIP code (12345 or 12345-6789)"),
        ({"zip": "123456"}, "zip", "'123456' is not a US ZIP code"),
        ({"zip": "12345-67"}, "zip", "'12345-67' is not a US ZIP code"),
        ({"zip": "K1A 0B1"}, "zip", "'K1A 0B1' is not a US ZIP code"),
        ({"country": "US", "zip": "ABCDE"}, "zip", "'ABCDE' is not a US ZIP code"),
        ({"country": "Narnia"}, "country", "'Narnia' is not a two-letter country code"),
        ({"country": "ZZ"}, "country", "'ZZ' is not a two-letter country code"),
        ({"npi": "123"}, "npi", "'123' is not a valid NPI (ten digits)"),
        ({"npi": "1234567890"}, "npi", "'1234567890' is not a valid NPI"),
        ({"line1": "x" * 201}, "line1", "Line1 is too long (at most 200 characters)"),
    ]
    for fields, field, message in cases:
        payload = await _create(provider, **{"line1": "1 Main St", **fields})
        assert payload["location"] is None, fields
        assert [m["field"] for m in payload["messages"]] == [field], (fields, payload)
        assert payload["messages"][0]["message"].startswith(message), payload
    assert await count(database, Location) == 0


async def test_all_problems_are_reported_together(api: Api, world: World) -> None:
    payload = await _create(
        api.with_key(world.a.provider.api_key),
        user_id=str(world.b.patient_id),
        state="ZZ",
        zip="1",
        npi="2",
    )
    assert [m["field"] for m in payload["messages"]] == ["user_id", "npi", "state", "zip"]


async def test_an_empty_location_is_a_message(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for fields in ({}, {"country": "US"}, {"line1": "  ", "npi": "1234567893"}):
        payload = await _create(provider, **fields)
        assert payload["location"] is None
        assert payload["messages"] == [
            {
                "field": "line1",
                "message": "A location needs an address (line1, city, state, zip) or a name",
            }
        ]
    # A name alone is enough (Healthie's schema requires no field).
    assert (await _create(provider, name="Telehealth only"))["messages"] is None


async def test_outside_the_us_state_and_postal_code_are_free_text(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    payload = await _create(
        provider, line1="24 Sussex Dr", city="Ottawa", state="Ontario", zip="K1M 1M4", country="ca"
    )
    assert payload["messages"] is None
    location = payload["location"]
    assert (location["state"], location["zip"], location["country"]) == ("Ontario", "K1M 1M4", "CA")
    assert location["to_oneline"] == "24 Sussex Dr, Ottawa, Ontario K1M 1M4, CA"
    payload = await _create(provider, line1="1 Main St", country="United States", state="VT")
    assert payload["location"]["country"] == "US"


async def test_a_patient_manages_their_own_locations(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    payload = await _create(patient, line1="9 Oak Ave", city="Austin", state="TX", zip="78701")
    assert payload["messages"] is None
    assert payload["location"]["user_id"] == str(world.a.patient_id)
    own = await _create(patient, user_id=str(world.a.patient_id), name="Work", line1="1 Plaza")
    assert own["messages"] is None
    for other in (world.a.other_patient_id, world.a.provider.user_id, world.b.patient_id):
        payload = await _create(patient, user_id=str(other), line1="1 Main St")
        assert payload == {
            "location": None,
            "messages": [{"field": "user_id", "message": "User not found"}],
        }
    location_id = payload_id = own["location"]["id"]
    data = await patient.data(UPDATE, {"input": {"id": location_id, "line2": "Floor 3"}})
    assert data["updateLocation"]["messages"] is None
    data = await patient.data(DELETE, {"id": payload_id})
    assert data["deleteLocation"]["messages"] is None


async def test_staff_manage_patients_and_their_own_but_not_colleagues_locations(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    staff = api.with_key(world.a.staff.api_key)
    assert (await _create(provider, line1="1 Practice Way"))["location"]["user_id"] == str(
        world.a.provider.user_id
    )
    payload = await _create(staff, user_id=str(world.a.provider.user_id), line1="1 Main St")
    assert payload["messages"] == [{"field": "user_id", "message": "User not found"}]
    colleague_location = await _location_id(provider)
    data = await staff.data(UPDATE, {"input": {"id": colleague_location, "line1": "2 Main St"}})
    assert data["updateLocation"]["messages"] == [{"field": "id", "message": "Location not found"}]


async def test_update_changes_only_the_given_fields(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    location_id = await _location_id(
        provider, user_id=str(world.a.patient_id), city="Albany", zip="12207", name="Home"
    )
    data = await provider.data(UPDATE, {"input": {"id": location_id, "line2": "Apt 2", "name": ""}})
    assert data["updateLocation"] == {
        "location": {
            "id": location_id,
            "name": None,
            "line1": "1 Main Street",
            "line2": "Apt 2",
            "city": "Albany",
            "state": "NY",
            "zip": "12207",
            "country": "US",
            "npi": None,
        },
        "messages": None,
    }


async def test_update_checks_state_and_zip_against_the_resulting_country(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    location_id = await _location_id(
        provider, state="Bavaria", zip="80331", city="Munich", country="DE"
    )
    # Moving the address to the US re-checks the stored state.
    data = await provider.data(UPDATE, {"input": {"id": location_id, "country": "US"}})
    assert [m["field"] for m in data["updateLocation"]["messages"]] == ["state"]
    row = await _row(database, location_id)
    assert row is not None and row.country == "DE"
    data = await provider.data(
        UPDATE, {"input": {"id": location_id, "country": "US", "state": "NY", "zip": "10001"}}
    )
    assert data["updateLocation"]["messages"] is None
    data = await provider.data(UPDATE, {"input": {"id": location_id, "zip": "1000"}})
    assert data["updateLocation"]["messages"][0]["field"] == "zip"
    row = await _row(database, location_id)
    assert row is not None and (row.state, row.zip, row.country) == ("NY", "10001", "US")


async def test_update_and_delete_need_a_location_of_the_organization(
    api: Api, world: World, database: Database
) -> None:
    b_location = await _location_id(
        api.with_key(world.b.provider.api_key), user_id=str(world.b.patient_id)
    )
    a = api.with_key(world.a.provider.api_key)
    not_found = [{"field": "id", "message": "Location not found"}]
    for location_id in (b_location, "424242"):
        data = await a.data(UPDATE, {"input": {"id": location_id, "line1": "Hijacked"}})
        assert data["updateLocation"] == {"location": None, "messages": not_found}
        data = await a.data(DELETE, {"id": location_id})
        assert data["deleteLocation"] == {"location": None, "messages": not_found}
    # Beyond the id column's range: a message on the field, never a database error.
    data = await a.data(DELETE, {"id": "99999999999"})
    assert data["deleteLocation"]["location"] is None
    assert [m["field"] for m in data["deleteLocation"]["messages"]] == ["id"]
    data = await a.data(UPDATE, {"input": {"line1": "No id"}})
    assert data["updateLocation"]["messages"] == [{"field": "id", "message": "Id can't be blank"}]
    row = await _row(database, b_location)
    assert row is not None and row.line1 == "1 Main Street"


async def test_delete_removes_the_location(api: Api, world: World, database: Database) -> None:
    provider = api.with_key(world.a.provider.api_key)
    location_id = await _location_id(provider, user_id=str(world.a.patient_id))
    kept = await _location_id(provider, user_id=str(world.a.patient_id), line1="2 Main St")
    data = await provider.data(DELETE, {"id": location_id})
    assert data["deleteLocation"] == {
        "location": {"id": location_id, "line1": "1 Main Street"},
        "messages": None,
    }
    assert await _row(database, location_id) is None
    assert await _row(database, kept) is not None
    data = await provider.data(DELETE, {"id": location_id})
    assert data["deleteLocation"]["messages"] == [{"field": "id", "message": "Location not found"}]


async def test_anonymous_callers_are_refused(api: Api) -> None:
    assert await api.error_codes(CREATE_LOCATION, SEED_VARIABLES) == ["UNAUTHENTICATED"]
