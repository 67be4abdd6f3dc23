"""Appointments the way integrations use them (issue 29): Awell's create, get, check, move,
cancel and delete documents with the variables its actions send, and Healthie's inputs."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from tests.support.api import Api
from tests.support.scheduling import (
    AWELL_CREATE,
    AWELL_DELETE,
    AWELL_GET,
    AWELL_SCHEDULED,
    AWELL_UPDATE,
    CANCEL,
    NEXT_APPT,
    create_type,
    future,
)
from tests.support.world import World

from carebook import times
from carebook.db.engine import Database
from carebook.scheduling.models import Appointment

UPCOMING = "query($id: ID) { user(id: $id) { upcoming_appointments { id } } }"
DETAILS = """query($id: ID) { appointment(id: $id) {
  id notes location external_videochat_url metadata client_confirmed confirmed other_party_id
  user_id attendees { id } deleted_at contact_type pm_status length } }"""


async def _create(api: Api, **variables: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(AWELL_CREATE, variables))["createAppointment"]
    return payload


async def _update(api: Api, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(AWELL_UPDATE, {"input": input}))["updateAppointment"]
    return payload


async def _booked(api: Api, world: World, type_id: str, days: int = 3, **extra: Any) -> str:
    payload = await _create(
        api,
        user_id=str(world.a.patient_id),
        appointment_type_id=type_id,
        datetime=future(days=days).isoformat(),
        **extra,
    )
    assert payload["messages"] is None, payload
    appointment_id: str = payload["appointment"]["id"]
    return appointment_id


async def test_awells_create_action_books_with_its_fields(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff)
    # Awell sends metadata as JSON.stringify(...): a string, which reads back as that string.
    sent = json.dumps({"awell_activity": "abc", "step": 2})
    appointment_id = await _booked(
        staff,
        world,
        type_id,
        contact_type="Video Call",
        other_party_id=str(world.a.staff.user_id),
        metadata=sent,
        notes="Bring the food diary",
        external_videochat_url="https://meet.example.com/r/42",
    )
    got = (await staff.data(DETAILS, {"id": appointment_id}))["appointment"]
    assert got["metadata"] == sent
    assert got["notes"] == "Bring the food diary"
    assert got["external_videochat_url"] == "https://meet.example.com/r/42"
    assert got["other_party_id"] == world.a.staff.user_id
    assert got["user_id"] == world.a.patient_id
    assert got["attendees"] == [{"id": str(world.a.patient_id)}]
    assert got["contact_type"] == "Video Call"
    read = (await staff.data(AWELL_GET, {"id": appointment_id}))["appointment"]
    assert read["provider"]["id"] == str(world.a.staff.user_id)
    assert read["appointment_type"]["id"] == type_id
    # An object reads back as that object.
    second = await _booked(staff, world, type_id, days=4, metadata={"a": [1, {"b": None}]})
    assert (await staff.data(DETAILS, {"id": second}))["appointment"]["metadata"] == {
        "a": [1, {"b": None}]
    }


async def test_bad_inputs_are_messages_and_book_nothing(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff)
    base = {
        "user_id": str(world.a.patient_id),
        "appointment_type_id": type_id,
        "datetime": future().isoformat(),
    }
    bad_url = await _create(staff, **base, external_videochat_url="javascript:alert(1)")
    assert bad_url["messages"][0]["field"] == "external_videochat_url"
    huge = await _create(staff, **base, metadata="x" * 10_001)
    assert huge["messages"][0]["field"] == "metadata"
    unknown = await _create(staff, **base, other_party_id=str(world.b.provider.user_id))
    assert unknown["messages"] == [{"field": "other_party_id", "message": "Provider not found"}]
    two = await staff.data(
        """mutation($input: createAppointmentInput) { createAppointment(input: $input) {
          appointment { id } messages { field message } } }""",
        {"input": {**base, "user_id": None, "attendee_ids": f"{world.a.patient_id},1"}},
    )
    assert two["createAppointment"]["messages"][0]["field"] == "attendee_ids"
    listed = await staff.data(AWELL_SCHEDULED, {"user_id": str(world.a.patient_id)})
    assert listed["appointments"] == []


async def test_date_time_and_timezone_book_a_local_time(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff)
    day = (future(days=20)).date().isoformat()
    body = await staff.data(
        """mutation($input: createAppointmentInput) { createAppointment(input: $input) {
          appointment { id start } messages { field message } } }""",
        {
            "input": {
                "attendee_ids": str(world.a.patient_id),
                "appointment_type_id": type_id,
                "date": day,
                "time": "09:30",
                "timezone": "Europe/Paris",
                "location": "Room 4",
            }
        },
    )
    payload = body["createAppointment"]
    assert payload["messages"] is None, payload
    start = times.parse(payload["appointment"]["start"])
    local = start.astimezone(ZoneInfo("Europe/Paris"))
    assert (local.date().isoformat(), local.hour, local.minute) == (day, 9, 30)
    no_time = await staff.data(
        """mutation($input: createAppointmentInput) { createAppointment(input: $input) {
          appointment { id } messages { field message } } }""",
        {
            "input": {
                "user_id": str(world.a.patient_id),
                "appointment_type_id": type_id,
                "date": day,
            }
        },
    )
    assert no_time["createAppointment"]["messages"][0]["field"] == "time"


async def test_check_scheduled_appointments_as_awell_does(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    wanted, other = await create_type(staff), await create_type(staff, name="Follow-up")
    check = {"user_id": str(world.a.patient_id), "appointment_type_id": wanted}
    assert (await staff.data(AWELL_SCHEDULED, check))["appointments"] == []
    await _booked(staff, world, other, days=2)
    assert (await staff.data(AWELL_SCHEDULED, check))["appointments"] == []
    booked = await _booked(staff, world, wanted, days=5)
    assert (await staff.data(AWELL_SCHEDULED, check))["appointments"] == [{"id": booked}]
    assert (await staff.data(CANCEL, {"id": booked}))["updateAppointment"]["messages"] is None
    assert (await staff.data(AWELL_SCHEDULED, check))["appointments"] == []


async def test_delete_hides_the_appointment_and_frees_its_slot(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff)
    appointment_id = await _booked(staff, world, type_id, days=6)
    pid = {"id": str(world.a.patient_id)}
    assert (await staff.data(NEXT_APPT, pid))["user"]["next_appt_date"] is not None
    upcoming = (await staff.data(UPCOMING, pid))["user"]["upcoming_appointments"]
    assert upcoming == [{"id": appointment_id}]
    # Another organization and a patient cannot delete it.
    other_org = api.with_key(world.b.provider.api_key)
    refused = (await other_org.data(AWELL_DELETE, {"id": appointment_id}))["deleteAppointment"]
    assert refused["messages"] == [{"field": "id", "message": "Appointment not found"}]
    patient = api.with_token(world.a.patient_token)
    assert await patient.error_codes(AWELL_DELETE, {"id": appointment_id})
    deleted = (await staff.data(AWELL_DELETE, {"id": appointment_id, "deleteRecurring": None}))[
        "deleteAppointment"
    ]
    assert deleted == {"appointment": {"id": appointment_id}, "messages": None}
    assert (await staff.data(AWELL_GET, {"id": appointment_id}))["appointment"] is None
    kept = await staff.data(AWELL_GET, {"id": appointment_id, "include_deleted": True})
    assert kept["appointment"]["id"] == appointment_id
    assert (await staff.data(NEXT_APPT, pid))["user"]["next_appt_date"] is None
    assert (await staff.data(UPCOMING, pid))["user"]["upcoming_appointments"] == []
    everything = await staff.data('query { appointments(filter: "all") { id } }')
    assert everything["appointments"] == []
    again = (await staff.data(AWELL_DELETE, {"id": appointment_id}))["deleteAppointment"]
    assert again["messages"] == [{"field": "id", "message": "Appointment not found"}]
    # The slot is free: the same start books again.
    assert await _booked(staff, world, type_id, days=6)


async def test_rescheduling_moves_and_keeps_the_provider_unbooked_twice(
    api: Api, world: World
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff, length=60)
    first = await _booked(staff, world, type_id, days=3)
    second = await _booked(staff, world, type_id, days=4)
    taken = future(days=4) + timedelta(minutes=30)
    clash = await _update(staff, id=first, datetime=taken.isoformat())
    assert clash["messages"][0]["field"] == "datetime"
    assert clash["appointment"] is None
    # Moving by half an hour overlaps only itself: allowed.
    nudged = future(days=3) + timedelta(minutes=30)
    moved = await _update(staff, id=first, datetime=nudged.isoformat())
    assert moved["messages"] is None
    assert times.parse(moved["appointment"]["date"]) == nudged
    pid = {"id": str(world.a.patient_id)}
    later = future(days=9)
    assert (await _update(staff, id=first, datetime=later.isoformat()))["messages"] is None
    next_date = (await staff.data(NEXT_APPT, pid))["user"]["next_appt_date"]
    assert times.parse(next_date) == future(days=4)  # the other one is now the next
    # The freed time can be booked again; the provider's new time cannot.
    assert await _booked(staff, world, type_id, days=3)
    at_later = await _create(
        staff,
        user_id=str(world.a.other_patient_id),
        appointment_type_id=type_id,
        datetime=later.isoformat(),
    )
    assert at_later["messages"][0]["field"] == "datetime"
    past = await _update(staff, id=second, datetime=future(days=-1).isoformat())
    assert past["messages"][0]["field"] == "datetime"


async def test_moving_to_another_provider_checks_their_calendar(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff, length=60)
    mine = await _booked(staff, world, type_id, days=3)
    theirs = await _create(
        staff,
        user_id=str(world.a.other_patient_id),
        appointment_type_id=type_id,
        other_party_id=str(world.a.staff.user_id),
        datetime=future(days=3).isoformat(),
    )
    assert theirs["messages"] is None
    busy = await _update(staff, id=mine, other_party_id=str(world.a.staff.user_id))
    assert busy["messages"][0]["field"] == "datetime"
    free = await _update(
        staff,
        id=mine,
        other_party_id=str(world.a.staff.user_id),
        date=future(days=3).date().isoformat(),
        time="20:00",
        timezone="UTC",
    )
    assert free["messages"] is None, free
    got = (await staff.data(AWELL_GET, {"id": mine}))["appointment"]
    assert got["provider"]["id"] == str(world.a.staff.user_id)
    assert times.parse(got["date"]).hour == 20


async def test_details_confirmations_and_what_a_patient_may_change(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff)
    appointment_id = await _booked(staff, world, type_id, notes="Old")
    changed = await _update(
        staff,
        id=appointment_id,
        notes="",
        location="Room 2",
        confirmed=True,
        metadata={"k": "v"},
        pm_status="Occurred",
    )
    assert changed["messages"] is None
    patient = api.with_token(world.a.patient_token)
    move = await _update(patient, id=appointment_id, datetime=future(days=8).isoformat())
    assert (
        move["messages"][0]["message"] == "Patients can only cancel or confirm their appointments"
    )
    confirm = await _update(patient, id=appointment_id, client_confirmed=True)
    assert confirm["messages"] is None
    got = (await staff.data(DETAILS, {"id": appointment_id}))["appointment"]
    assert got["notes"] is None and got["location"] == "Room 2"
    assert got["confirmed"] is True and got["client_confirmed"] is True
    assert got["metadata"] == {"k": "v"} and got["pm_status"] == "Occurred"
    location_id = await _update(staff, id=appointment_id, appointment_location_id="3")
    assert location_id["messages"][0]["field"] == "appointment_location_id"


async def test_reschedules_and_a_booking_racing_for_one_slot(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff, length=60)
    first = await _booked(staff, world, type_id, days=3)
    second = await _booked(staff, world, type_id, days=4)
    slot = future(days=6)
    results = await asyncio.gather(
        _update(staff, id=first, datetime=slot.isoformat()),
        _update(staff, id=second, datetime=(slot + timedelta(minutes=15)).isoformat()),
        _create(
            staff,
            user_id=str(world.a.other_patient_id),
            appointment_type_id=type_id,
            datetime=(slot - timedelta(minutes=15)).isoformat(),
        ),
    )
    winners = [r for r in results if r["appointment"] is not None]
    assert len(winners) == 1, results
    assert all(r["messages"][0]["field"] == "datetime" for r in results if r not in winners)
    async with database.read_sessions() as session:
        near = await session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(
                Appointment.cancelled_at.is_(None),
                Appointment.start < slot + timedelta(hours=2),
                Appointment.end > slot - timedelta(hours=1),
            )
        )
    assert near == 1


async def test_the_longest_video_chat_url_is_stored_whole(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff)
    prefix = "https://meet.example.com/"
    longest = prefix + "a" * (2_000 - len(prefix))
    appointment_id = await _booked(staff, world, type_id, external_videochat_url=longest)
    async with database.read_sessions() as session:
        row = await session.get_one(Appointment, int(appointment_id))
        assert row.external_videochat_url == longest
    too_long = await _update(staff, id=appointment_id, external_videochat_url=longest + "a")
    assert too_long["messages"] == [
        {
            "field": "external_videochat_url",
            "message": "External videochat url is too long (at most 2000 characters)",
        }
    ]


LIST = """query($filter: String, $statuses: [String], $status: String, $types: [ID],
  $active: Boolean, $upcoming: Boolean, $keywords: String, $providers: [ID],
  $order: AppointmentOrderKeys, $paginate: Boolean, $size: Int, $offset: Int) {
  appointments(filter: $filter, filter_by_appointment_statuses: $statuses,
    filter_by_appointment_status: $status, filter_by_appointment_type_ids: $types,
    is_active: $active, is_upcoming: $upcoming, keywords: $keywords, provider_ids: $providers,
    order_by: $order, should_paginate: $paginate, page_size: $size, offset: $offset) { id }
  appointmentsCount(filter: $filter, filter_by_appointment_status: $status,
    filter_by_appointment_type_ids: $types, is_active: $active, is_upcoming: $upcoming,
    keywords: $keywords, provider_ids: $providers) }"""


async def _listed(api: Api, **variables: Any) -> tuple[list[str], int]:
    data = await api.data(LIST, variables)
    return [row["id"] for row in data["appointments"]], data["appointmentsCount"]


async def test_the_filters_integrations_use(api: Api, world: World, database: Database) -> None:
    staff = api.with_key(world.a.provider.api_key)
    visit, call = await create_type(staff), await create_type(staff, name="Call")
    soon = await _booked(staff, world, visit, days=2, notes="Knee pain")
    later = await _booked(staff, world, call, days=5)
    other = await _create(
        staff,
        user_id=str(world.a.other_patient_id),
        appointment_type_id=visit,
        other_party_id=str(world.a.staff.user_id),
        datetime=future(days=3).isoformat(),
    )
    theirs = other["appointment"]["id"]
    cancelled = await _booked(staff, world, visit, days=7)
    await staff.data(CANCEL, {"id": cancelled})
    await _update(staff, id=later, pm_status="Occurred")
    past = await _booked(staff, world, visit, days=9)
    async with database.write_sessions() as session, session.begin():
        row = await session.get_one(Appointment, int(past))
        row.start, row.end = future(days=-2), future(days=-2) + timedelta(hours=1)
    assert await _listed(staff) == ([soon, theirs, later], 3)
    assert await _listed(staff, order="DATE_DESC") == ([later, theirs, soon], 3)
    assert await _listed(staff, filter="all") == ([past, soon, theirs, later, cancelled], 5)
    assert await _listed(staff, filter="past") == ([past], 1)
    assert await _listed(staff, active=False) == ([cancelled], 1)
    assert await _listed(staff, filter="all", upcoming=False) == ([past], 1)
    assert await _listed(staff, status="Occurred") == ([later], 1)
    assert (await _listed(staff, statuses=["cancelled", "Occurred"]))[0] == [later, cancelled]
    assert await _listed(staff, types=[call]) == ([later], 1)
    assert await _listed(staff, providers=[str(world.a.staff.user_id)]) == ([theirs], 1)
    assert await _listed(staff, keywords="knee") == ([soon], 1)
    patient_name = (
        await staff.data(
            "query($id: ID) { user(id: $id) { first_name } }", {"id": str(world.a.patient_id)}
        )
    )["user"]["first_name"]
    assert await _listed(staff, keywords=patient_name.upper()) == ([soon, later], 2)
    assert await _listed(staff, paginate=True, size=1, offset=1) == ([theirs], 3)
    # The patient sees and counts only their own.
    patient = api.with_token(world.a.patient_token)
    assert await _listed(patient) == ([soon, later], 2)
    assert await api.with_key(world.b.provider.api_key).data(
        'query { appointmentsCount(filter: "all") }'
    ) == {"appointmentsCount": 0}
    assert await staff.error_codes('query { appointments(filter: "soon") { id } }') == [
        "BAD_USER_INPUT"
    ]


TYPE = "query($id: ID) { appointmentType(id: $id) { id name length pricing clients_can_book } }"
UPDATE_TYPE = """mutation($input: updateAppointmentTypeInput) {
  updateAppointmentType(input: $input) {
    appointmentType { id name length pricing clients_can_book } messages { field message } } }"""
DELETE_TYPE = """mutation($id: ID) { deleteAppointmentType(input: {id: $id}) {
  appointmentType { id } messages { field message } } }"""


async def test_appointment_types_are_read_changed_and_deleted(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff, length=30)
    booked = await _booked(staff, world, type_id)
    changed = (
        await staff.data(
            UPDATE_TYPE,
            {"input": {"id": type_id, "name": "Renamed", "length": 45, "pricing": "80"}},
        )
    )["updateAppointmentType"]
    assert changed["messages"] is None
    assert changed["appointmentType"] == {
        "id": type_id,
        "name": "Renamed",
        "length": 45,
        "pricing": "80.00",
        "clients_can_book": True,
    }
    assert (await staff.data(TYPE, {"id": type_id}))["appointmentType"]["name"] == "Renamed"
    # Booked appointments keep their length; new ones take the new one.
    assert (await staff.data(DETAILS, {"id": booked}))["appointment"]["length"] == 30
    bad = (await staff.data(UPDATE_TYPE, {"input": {"id": type_id, "length": 0}}))[
        "updateAppointmentType"
    ]
    assert bad["messages"][0]["field"] == "length"
    foreign = api.with_key(world.b.provider.api_key)
    assert (await foreign.data(TYPE, {"id": type_id}))["appointmentType"] is None
    refused = (await foreign.data(DELETE_TYPE, {"id": type_id}))["deleteAppointmentType"]
    assert refused["messages"] == [{"field": "id", "message": "Appointment type not found"}]
    patient = api.with_token(world.a.patient_token)
    assert await patient.error_codes(DELETE_TYPE, {"id": type_id})
    gone = (await staff.data(DELETE_TYPE, {"id": type_id}))["deleteAppointmentType"]
    assert gone == {"appointmentType": {"id": type_id}, "messages": None}
    assert (await staff.data(TYPE, {"id": type_id}))["appointmentType"] is None
    assert (await staff.data("query { appointmentTypes { id } }"))["appointmentTypes"] == []
    again = await _create(
        staff,
        user_id=str(world.a.patient_id),
        appointment_type_id=type_id,
        datetime=future(days=8).isoformat(),
    )
    assert again["messages"] == [
        {"field": "appointment_type_id", "message": "Appointment type not found"}
    ]
    read = (await staff.data(AWELL_GET, {"id": booked}))["appointment"]
    assert read["appointment_type"] == {"id": type_id, "name": "Renamed"}
    # The appointment of a deleted type can still move.
    assert (await _update(staff, id=booked, datetime=future(days=11).isoformat()))[
        "messages"
    ] is None


async def test_the_patient_can_be_changed_within_the_organization(api: Api, world: World) -> None:
    staff = api.with_key(world.a.provider.api_key)
    type_id = await create_type(staff)
    appointment_id = await _booked(staff, world, type_id)
    foreign = await _update(staff, id=appointment_id, user_id=str(world.b.patient_id))
    assert foreign["messages"] == [{"field": "user_id", "message": "User not found"}]
    moved = await _update(staff, id=appointment_id, attendee_ids=str(world.a.other_patient_id))
    assert moved["messages"] is None
    read = (await staff.data(AWELL_GET, {"id": appointment_id}))["appointment"]
    assert read["user"]["id"] == str(world.a.other_patient_id)
    mine = await api.with_token(world.a.patient_token).data(AWELL_GET, {"id": appointment_id})
    assert mine["appointment"] is None
