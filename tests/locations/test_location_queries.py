"""location, locations, locationsCount and User.locations / User.location."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.seed_tag_location_documents import CREATE_LOCATION
from tests.support.world import World

LOCATION = "query($id: ID) { location(id: $id) { id line1 user_id user { id } } }"

LOCATIONS = """query($user_id: String, $keywords: String, $has_name: Boolean, $offset: Int,
  $page_size: Int, $should_paginate: Boolean, $after: Cursor) {
  locations(user_id: $user_id, keywords: $keywords, has_name: $has_name, offset: $offset,
            page_size: $page_size, should_paginate: $should_paginate, after: $after)
  { id line1 cursor } }"""

USER_LOCATIONS = """query($id: ID) { user(id: $id) { id location { line1 }
  locations { id line1 city state zip } } }"""


async def _create(api: Api, user_id: int | None, line1: str, **fields: Any) -> str:
    variables = {"line1": line1, "state": "NY", **fields}
    if user_id is not None:
        variables["user_id"] = str(user_id)
    data = await api.data(CREATE_LOCATION, variables)
    assert data["createLocation"]["messages"] is None, data
    location_id: str = data["createLocation"]["location"]["id"]
    return location_id


async def _lines(api: Api, **variables: Any) -> list[str]:
    data = await api.data(LOCATIONS, variables)
    return [location["line1"] for location in data["locations"]]


async def test_a_users_locations_on_the_user_object(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    first = await _create(provider, world.a.patient_id, "1 First St", city="Troy", zip="12180")
    second = await _create(provider, world.a.patient_id, "2 Second St")
    data = await provider.data(USER_LOCATIONS, {"id": str(world.a.patient_id)})
    assert data["user"]["location"] == {"line1": "1 First St"}
    assert data["user"]["locations"] == [
        {"id": first, "line1": "1 First St", "city": "Troy", "state": "NY", "zip": "12180"},
        {"id": second, "line1": "2 Second St", "city": None, "state": "NY", "zip": None},
    ]
    data = await provider.data(USER_LOCATIONS, {"id": str(world.a.other_patient_id)})
    assert data["user"]["location"] is None
    assert data["user"]["locations"] == []
    patient = api.with_token(world.a.patient_token)
    data = await patient.data("query { currentUser { locations { id } } }")
    assert data["currentUser"]["locations"] == [{"id": first}, {"id": second}]


async def test_location_by_id_is_scoped_to_the_caller(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    mine = await _create(provider, world.a.patient_id, "1 Main St")
    others = await _create(provider, world.a.other_patient_id, "2 Main St")
    b_location = await _create(api.with_key(world.b.provider.api_key), world.b.patient_id, "B St")
    data = await provider.data(LOCATION, {"id": mine})
    assert data["location"] == {
        "id": mine,
        "line1": "1 Main St",
        "user_id": str(world.a.patient_id),
        "user": {"id": str(world.a.patient_id)},
    }
    assert (await api.with_key(world.a.staff.api_key).data(LOCATION, {"id": mine}))["location"]
    for location_id in (b_location, "424242", "nope", "99999999999", None):
        assert (await provider.data(LOCATION, {"id": location_id}))["location"] is None
    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(LOCATION, {"id": mine}))["location"]["id"] == mine
    assert (await patient.data(LOCATION, {"id": others}))["location"] is None


async def test_locations_default_to_the_caller_and_take_a_user_id(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await _create(provider, None, "Practice St")
    await _create(provider, world.a.patient_id, "Patient St")
    await _create(api.with_key(world.b.provider.api_key), world.b.patient_id, "B St")
    assert await _lines(provider) == ["Practice St"]
    assert await _lines(provider, user_id=str(world.a.patient_id)) == ["Patient St"]
    assert await _lines(provider, user_id=str(world.b.patient_id)) == []
    patient = api.with_token(world.a.patient_token)
    assert await _lines(patient) == ["Patient St"]
    assert await _lines(patient, user_id=str(world.a.provider.user_id)) == []
    for bad in ("abc", "99999999999"):
        body = await provider.post(LOCATIONS, {"user_id": bad})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], bad


async def test_locations_pagination_by_offset_and_cursor(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    lines = [f"{n} Main St" for n in range(1, 14)]
    for line in lines:
        await _create(provider, world.a.patient_id, line)
    user_id = str(world.a.patient_id)
    assert await _lines(provider, user_id=user_id) == lines  # should_paginate defaults to false
    first_page = await provider.data(LOCATIONS, {"user_id": user_id, "should_paginate": True})
    page = first_page["locations"]
    assert [location["line1"] for location in page] == lines[:10]
    after = page[-1]["cursor"]
    assert await _lines(provider, user_id=user_id, should_paginate=True, after=after) == lines[10:]
    assert (
        await _lines(provider, user_id=user_id, should_paginate=True, offset=4, page_size=3)
        == lines[4:7]
    )
    for bad in ({"page_size": 0}, {"page_size": 101}, {"offset": -1}, {"after": "garbage"}):
        body = await provider.post(LOCATIONS, {"user_id": user_id, "should_paginate": True, **bad})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], bad


async def test_locations_keywords_and_has_name(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    await _create(patient, None, "12 Baker Street", city="Rochester", name="Home")
    await _create(patient, None, "500 Office Park", city="Buffalo")
    await _create(patient, None, "7 Lake Road", city="Buffalo", name="Cabin")
    assert await _lines(patient, keywords="buffalo") == ["500 Office Park", "7 Lake Road"]
    assert await _lines(patient, keywords="BUFFALO lake") == ["7 Lake Road"]
    assert await _lines(patient, keywords="home") == ["12 Baker Street"]
    assert await _lines(patient, keywords="100%_") == []
    assert await _lines(patient, has_name=True) == ["12 Baker Street", "7 Lake Road"]
    count = "query($k: String, $h: Boolean) { locationsCount(keywords: $k, has_name: $h) }"
    assert (await patient.data(count, {}))["locationsCount"] == 3
    assert (await patient.data(count, {"k": "buffalo"}))["locationsCount"] == 2
    assert (await patient.data(count, {"h": True}))["locationsCount"] == 2
    provider = api.with_key(world.a.provider.api_key)
    assert (await provider.data(count, {}))["locationsCount"] == 0  # the caller's own
