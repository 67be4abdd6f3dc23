"""Appointment locations: written through updateAppointmentSetting as Healthie writes them,
read with appointmentLocation(s), chosen with appointment_location_id."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.scheduling import AWELL_UPDATE, create_type, future
from tests.support.world import World

from carebook.db.engine import Database
from carebook.scheduling.models import AppointmentLocation

SETTINGS = """mutation($locations: [AppointmentLocationInput]) {
  updateAppointmentSetting(input: {appointment_locations: $locations}) {
    appointmentSetting { id appointment_locations { id location clients_can_book has_rooms } }
    messages { field message } } }"""
LIST = """query($ids: [Int], $keywords: String) {
  appointmentLocations(ids: $ids, keywords: $keywords) { id location } }"""
ONE = "query($id: ID) { appointmentLocation(id: $id) { id location clients_can_book } }"
BOOK = """mutation($input: createAppointmentInput) { createAppointment(input: $input) {
  appointment { id appointment_location_id } messages { field message } } }"""


async def _settings(api: Api, *locations: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(SETTINGS, {"locations": list(locations)}))[
        "updateAppointmentSetting"
    ]
    return payload


async def test_locations_are_added_changed_removed_and_chosen(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    added = await _settings(
        staff, {"location": "Main office"}, {"location": "Annex", "clients_can_book": False}
    )
    assert added["messages"] is None
    main, annex = added["appointmentSetting"]["appointment_locations"]
    assert (main["location"], main["clients_can_book"], main["has_rooms"]) == (
        "Main office",
        True,
        False,
    )
    listed = (await staff.data(LIST, {"keywords": "ANN"}))["appointmentLocations"]
    assert listed == [{"id": annex["id"], "location": "Annex"}]
    assert [
        x["id"]
        for x in (await staff.data(LIST, {"ids": [int(main["id"])]}))["appointmentLocations"]
    ] == [main["id"]]
    # A patient sees only the locations clients can book; another organization none.
    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(LIST))["appointmentLocations"] == [
        {"id": main["id"], "location": "Main office"}
    ]
    assert (await patient.data(ONE, {"id": annex["id"]}))["appointmentLocation"] is None
    foreign = api.with_key(world.b.provider.api_key)
    assert (await foreign.data(ONE, {"id": main["id"]}))["appointmentLocation"] is None
    stolen = await _settings(foreign, {"id": main["id"], "location": "Mine"})
    assert stolen["messages"] == [
        {"field": "appointment_locations", "message": "Appointment location not found"}
    ]
    assert await patient.error_codes(SETTINGS, {"locations": [{"location": "X"}]})
    # Booking and moving choose a location by id.
    type_id = await create_type(staff)
    base = {
        "user_id": str(world.a.patient_id),
        "appointment_type_id": type_id,
        "datetime": future().isoformat(),
    }
    booked = (await staff.data(BOOK, {"input": {**base, "appointment_location_id": main["id"]}}))[
        "createAppointment"
    ]
    assert booked["appointment"]["appointment_location_id"] == main["id"]
    other_org = await _settings(foreign, {"location": "Elsewhere"})
    elsewhere = other_org["appointmentSetting"]["appointment_locations"][0]["id"]
    refused = (
        await staff.data(
            BOOK,
            {
                "input": {
                    **base,
                    "datetime": future(days=5).isoformat(),
                    "appointment_location_id": elsewhere,
                }
            },
        )
    )["createAppointment"]
    assert refused["messages"] == [
        {"field": "appointment_location_id", "message": "Appointment location not found"}
    ]
    appointment_id = booked["appointment"]["id"]
    moved = (
        await staff.data(
            AWELL_UPDATE,
            {"input": {"id": appointment_id, "appointment_location_id": annex["id"]}},
        )
    )["updateAppointment"]
    assert moved["messages"] is None
    read = "query($id: ID) { appointment(id: $id) { appointment_location_id } }"
    got = (await staff.data(read, {"id": appointment_id}))["appointment"]
    assert got["appointment_location_id"] == annex["id"]
    # Changed, then removed: gone from the lists; the appointment keeps it.
    renamed = await _settings(staff, {"id": main["id"], "location": "Head office"})
    assert renamed["appointmentSetting"]["appointment_locations"][0]["location"] == "Head office"
    removed = await _settings(staff, {"id": annex["id"], "_destroy": True})
    assert [x["id"] for x in removed["appointmentSetting"]["appointment_locations"]] == [main["id"]]
    assert (await staff.data(ONE, {"id": annex["id"]}))["appointmentLocation"] is None
    assert (await staff.data(read, {"id": appointment_id}))["appointment"] == got


async def test_a_refused_entry_writes_nothing_and_the_longest_text_is_stored(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    refused = await _settings(staff, {"location": "Kept?"}, {"location": "  "})
    assert refused["messages"] == [{"field": "location", "message": "Location can't be blank"}]
    assert (await staff.data(LIST))["appointmentLocations"] == []
    longest = "\u0390" * 199 + "x"
    stored = await _settings(staff, {"location": longest})
    assert stored["messages"] is None
    async with database.read_sessions() as session:
        row = await session.get_one(
            AppointmentLocation,
            int(stored["appointmentSetting"]["appointment_locations"][0]["id"]),
        )
        assert row.location == longest
    too_long = await _settings(staff, {"location": longest + "x"})
    assert too_long["messages"] == [
        {"field": "location", "message": "Location is too long (at most 200 characters)"}
    ]
