"""Appointment types, offerings, appointments, time zones and next_appt_date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from tests.support.api import Api
from tests.support.scheduling import (
    CANCEL,
    CREATE_APPOINTMENT,
    NEXT_APPT,
    create_offering,
    create_type,
    future,
)
from tests.support.world import World

from carebook import times
from carebook.db.engine import Database
from carebook.scheduling.models import Appointment

TYPES = "query { appointmentTypes { id name length pricing } offerings { id name price } }"
LIST = """query($sort: String) { users(sort_by: $sort, should_paginate: false) {
  id next_appt_date } }"""


async def _book(
    api: Api, world: World, type_id: str, start: str, tz: str | None = None
) -> dict[str, Any]:
    variables = {
        "user_id": str(world.a.patient_id),
        "type": type_id,
        "datetime": start,
        "timezone": tz,
    }
    payload: dict[str, Any] = (await api.data(CREATE_APPOINTMENT, variables))["createAppointment"]
    return payload


async def test_types_and_offerings_are_created_and_listed_per_organization(
    api: Api, world: World
) -> None:
    a, b = api.with_key(world.a.provider.api_key), api.with_key(world.b.provider.api_key)
    await create_type(a, pricing="120.5")
    await create_offering(a, price="99.50")
    data = await a.data(TYPES)
    assert data["appointmentTypes"][0]["pricing"] == "120.50"
    assert data["appointmentTypes"][0]["length"] == 60
    assert data["offerings"][0]["price"] == "99.50"
    assert await b.data(TYPES) == {"appointmentTypes": [], "offerings": []}


async def test_bad_type_input_is_a_message(api: Api, world: World) -> None:
    a = api.with_key(world.a.provider.api_key)
    body = await a.data(
        'mutation { createAppointmentType(input: {name: "X", length: 0, pricing: "abc"}) '
        "{ appointmentType { id } messages { field } } }"
    )
    assert body["createAppointmentType"]["appointmentType"] is None
    assert body["createAppointmentType"]["messages"] == [{"field": "length"}]


async def test_booking_with_a_timezone_stores_utc_and_answers_with_the_offset(
    api: Api, world: World, database: Database
) -> None:
    a = api.with_key(world.a.provider.api_key)
    type_id = await create_type(a)
    day = (datetime.now(UTC) + timedelta(days=40)).date()
    # January or July alike: America/New_York is -05:00 or -04:00. The answer is written in the
    # reader's zone (here none: UTC), Healthie's form (tests/graphql/test_wire_times.py).
    payload = await _book(a, world, type_id, f"{day}T10:00:00", "America/New_York")
    assert payload["messages"] is None
    start = times.parse(payload["appointment"]["start"])
    assert start.utcoffset() == timedelta(0)
    local = start.astimezone(ZoneInfo("America/New_York"))
    assert local.hour == 10 and local.utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
    assert payload["appointment"]["length"] == 60
    async with database.read_sessions() as session:
        row = await session.get_one(Appointment, int(payload["appointment"]["id"]))
        assert row.start == start.astimezone(UTC)


async def test_offsets_and_missing_zones(api: Api, world: World) -> None:
    a = api.with_key(world.a.provider.api_key)
    type_id = await create_type(a)
    when = future(days=5)
    offset_form = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000")  # Healthie's format
    assert (await _book(a, world, type_id, offset_form))["messages"] is None
    naive = (when + timedelta(hours=2)).replace(tzinfo=None).isoformat()
    # World providers and patients have no timezone: a naive time needs one.
    assert (await _book(a, world, type_id, naive))["messages"] == [
        {"field": "timezone", "message": "Give the time with an offset (e.g. -05:00) or a timezone"}
    ]
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert (await _book(a, world, type_id, past))["messages"][0]["field"] == "datetime"


async def test_provider_is_never_double_booked(api: Api, world: World) -> None:
    a = api.with_key(world.a.provider.api_key)
    type_id = await create_type(a, length=60)
    start = future(days=2)
    assert (await _book(a, world, type_id, start.isoformat()))["messages"] is None
    overlapping = (start + timedelta(minutes=30)).isoformat()
    messages = (await _book(a, world, type_id, overlapping))["messages"]
    assert messages[0]["field"] == "datetime"
    after = (start + timedelta(minutes=60)).isoformat()
    assert (await _book(a, world, type_id, after))["messages"] is None


async def test_next_appt_date_follows_booking_cancelling_and_time(
    api: Api, world: World, database: Database
) -> None:
    a = api.with_key(world.a.provider.api_key)
    type_id = await create_type(a)
    pid = str(world.a.patient_id)
    assert (await a.data(NEXT_APPT, {"id": pid}))["user"]["next_appt_date"] is None
    later = (await _book(a, world, type_id, future(days=9).isoformat()))["appointment"]
    sooner = (await _book(a, world, type_id, future(days=4).isoformat()))["appointment"]
    got = (await a.data(NEXT_APPT, {"id": pid}))["user"]["next_appt_date"]
    assert times.parse(got) == times.parse(sooner["start"])
    cancelled = (await a.data(CANCEL, {"id": sooner["id"]}))["updateAppointment"]
    assert cancelled["appointment"]["pm_status"] == "Cancelled"
    got = (await a.data(NEXT_APPT, {"id": pid}))["user"]["next_appt_date"]
    assert times.parse(got) == times.parse(later["start"])
    # Time passes: move the remaining appointment into the past.
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(Appointment)
            .where(Appointment.id == int(later["id"]))
            .values(
                start=datetime.now(UTC) - timedelta(hours=2),
                end=datetime.now(UTC) - timedelta(hours=1),
            )
        )
    assert (await a.data(NEXT_APPT, {"id": pid}))["user"]["next_appt_date"] is None


async def test_next_appt_date_sorts_the_list_with_nulls_last(api: Api, world: World) -> None:
    a = api.with_key(world.a.provider.api_key)
    type_id = await create_type(a)
    await _book(a, world, type_id, future(days=6).isoformat())
    other = {
        "user_id": str(world.a.other_patient_id),
        "type": type_id,
        "datetime": future(days=2).isoformat(),
    }
    assert (await a.data(CREATE_APPOINTMENT, other))["createAppointment"]["messages"] is None
    asc = [u["id"] for u in (await a.data(LIST, {"sort": "next_appt_date_asc"}))["users"]]
    desc = [u["id"] for u in (await a.data(LIST, {"sort": "next_appt_date_desc"}))["users"]]
    assert asc == [str(world.a.other_patient_id), str(world.a.patient_id)]
    assert desc == [str(world.a.patient_id), str(world.a.other_patient_id)]


async def test_patients_see_and_cancel_only_their_own(api: Api, world: World) -> None:
    a = api.with_key(world.a.provider.api_key)
    type_id = await create_type(a)
    mine = (await _book(a, world, type_id, future(days=3).isoformat()))["appointment"]
    patient = api.with_token(world.a.patient_token)
    listed = await patient.data("query { appointments { id user { id } } }")
    assert [x["id"] for x in listed["appointments"]] == [mine["id"]]
    other_org = api.with_key(world.b.provider.api_key)
    missing = (await other_org.data(CANCEL, {"id": mine["id"]}))["updateAppointment"]
    assert missing["messages"] == [{"field": "id", "message": "Appointment not found"}]
    done = (await patient.data(CANCEL, {"id": mine["id"]}))["updateAppointment"]
    assert done["appointment"]["pm_status"] == "Cancelled"
