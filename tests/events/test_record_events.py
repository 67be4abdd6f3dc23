"""The events of a patient's other records: applied tags, appointments, form requests,
locations, group moves and conversation memberships, each fired by the mutations that make it,
in the write's transaction and the record's organization."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.events import Seen, events_after, last_event_id
from tests.support.scheduling import (
    AWELL_DELETE,
    AWELL_UPDATE,
    CANCEL,
    CREATE_APPOINTMENT,
    checkout,
    create_type,
    future,
)
from tests.support.seed_group_documents import DELETE_USER_GROUP
from tests.support.seed_tag_location_documents import (
    APPLY_TAGS,
    CREATE_TAG,
    DELETE_TAG,
    REMOVE_APPLIED_TAG,
)
from tests.support.world import World

from carebook.db.engine import Database

REQUEST_FORM = """mutation($input: createRequestedFormInput) {
  createRequestedFormCompletion(input: $input) {
    requestedFormCompletion { id } messages { field message } } }"""

CREATE_LOCATION = """mutation($input: createLocationInput) { createLocation(input: $input) {
  location { id } messages { field message } } }"""
UPDATE_LOCATION = """mutation($input: updateLocationInput) { updateLocation(input: $input) {
  location { id } messages { field message } } }"""
DELETE_LOCATION = """mutation($id: ID) { deleteLocation(input: {id: $id}) {
  location { id } messages { field message } } }"""

UPDATE_CLIENT = """mutation($input: updateClientInput!) { updateClient(input: $input) {
  user { id locations { id } } messages { field message } } }"""

APPLIED = """query($tag: ID) { appliedTags(tag_id: $tag) { id user_id } }"""


def _event(event_type: str, resource_type: str, resource_id: Any, org: int, *fields: str) -> Seen:
    return Seen(event_type, resource_type, int(resource_id), sorted(fields), org, {})


async def _payload(api: Api, document: str, field: str, **variables: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(document, variables))[field]
    assert payload["messages"] is None, payload
    return payload


# --- applied tags -----------------------------------------------------------------------------


async def test_applying_and_removing_tags(api: Api, world: World, database: Database) -> None:
    staff = api.with_key(world.a.provider.api_key)
    org = world.a.provider.organization_id
    patient = str(world.a.patient_id)
    start = await last_event_id(database)
    tag = (await _payload(staff, CREATE_TAG, "createTag", name="VIP", taggable_user_id=patient))[
        "tag"
    ]["id"]
    await _payload(staff, APPLY_TAGS, "bulkApply", ids=[tag], taggable_user_id=patient)  # again
    await _payload(
        staff,
        APPLY_TAGS,
        "bulkApply",
        ids=[tag],
        taggable_user_id=str(world.a.other_patient_id),
    )
    applied = {
        row["user_id"]: row["id"]
        for row in (await staff.data(APPLIED, {"tag": tag}))["appliedTags"]
    }
    await _payload(staff, REMOVE_APPLIED_TAG, "removeAppliedTag", id=tag, taggable_user_id=patient)
    # Deleting the tag takes it off everyone still carrying it.
    await _payload(staff, DELETE_TAG, "deleteTag", id=tag)
    other_patient = str(world.a.other_patient_id)
    mine, other = applied[patient], applied[other_patient]
    # Healthie's reference gives both events the tag's and the user's ids, as strings.
    to_me = {"tag_id": tag, "user_id": patient}
    to_other = {"tag_id": tag, "user_id": other_patient}
    assert await events_after(database, start) == [
        Seen("applied_tag.created", "AppliedTag", int(mine), [], org, to_me),
        Seen("applied_tag.created", "AppliedTag", int(other), [], org, to_other),
        Seen("applied_tag.deleted", "AppliedTag", int(mine), [], org, to_me),
        Seen("applied_tag.deleted", "AppliedTag", int(other), [], org, to_other),
    ]


async def test_a_refused_bulk_apply_fires_nothing(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    tag = (await _payload(staff, CREATE_TAG, "createTag", name="Refused"))["tag"]["id"]
    start = await last_event_id(database)
    data = await staff.data(
        APPLY_TAGS, {"ids": [tag, "999999"], "taggable_user_id": str(world.a.patient_id)}
    )
    assert data["bulkApply"]["messages"]
    assert await events_after(database, start) == []


# --- appointments -----------------------------------------------------------------------------


async def test_booking_and_cancelling_an_appointment(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.b.provider.api_key)
    org = world.b.provider.organization_id
    type_id = await create_type(staff)
    start = await last_event_id(database)
    booked = await _payload(
        staff,
        CREATE_APPOINTMENT,
        "createAppointment",
        user_id=str(world.b.patient_id),
        type=type_id,
        datetime=future().isoformat(),
    )
    appointment_id = booked["appointment"]["id"]
    await _payload(staff, CANCEL, "updateAppointment", id=appointment_id)
    await _payload(staff, CANCEL, "updateAppointment", id=appointment_id)  # cancelled already
    created = _event("appointment.created", "Appointment", appointment_id, org)
    assert await events_after(database, start) == [
        Seen(**{**created.__dict__, "extra": {"resource_organization_id": str(org)}}),
        _event("appointment.updated", "Appointment", appointment_id, org, "pm_status"),
    ]


async def test_moving_and_deleting_an_appointment(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    org = world.a.provider.organization_id
    type_id = await create_type(staff)
    booked = await _payload(
        staff,
        CREATE_APPOINTMENT,
        "createAppointment",
        user_id=str(world.a.patient_id),
        type=type_id,
        datetime=future().isoformat(),
    )
    appointment_id = booked["appointment"]["id"]
    start = await last_event_id(database)
    moved = {"id": appointment_id, "datetime": future(days=5).isoformat(), "location": "Room 2"}
    await _payload(staff, AWELL_UPDATE, "updateAppointment", input=moved)
    await _payload(staff, AWELL_DELETE, "deleteAppointment", id=appointment_id)
    assert await events_after(database, start) == [
        _event(
            "appointment.updated", "Appointment", appointment_id, org, "date", "end", "location"
        ),
        _event("appointment.deleted", "Appointment", appointment_id, org),
    ]


async def test_checkout_creates_the_patient_and_the_appointment(
    api: Api, world: World, database: Database
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    org = world.a.provider.organization_id
    start = await last_event_id(database)
    payload = await checkout(
        api,
        appointment_type_id=type_id,
        provider_id=str(world.a.provider.user_id),
        date=future(days=4).isoformat(),
        email="new.booker@example.com",
        first_name="New",
        last_name="Booker",
    )
    assert payload["messages"] is None, payload
    appointment = payload["appointment"]
    assert await events_after(database, start) == [
        _event("patient.created", "User", appointment["user"]["id"], org),
        Seen(
            "appointment.created",
            "Appointment",
            int(appointment["id"]),
            [],
            org,
            {"resource_organization_id": str(org)},
        ),
    ]


# --- form requests ----------------------------------------------------------------------------


async def test_a_form_request_per_patient(api: Api, world: World, database: Database) -> None:
    org = world.a.provider.organization_id
    start = await last_event_id(database)
    await _payload(
        api.with_key(world.a.staff.api_key),
        REQUEST_FORM,
        "createRequestedFormCompletion",
        input={
            "recipient_ids": f"{world.a.patient_id},{world.a.other_patient_id}",
            "custom_module_form_id": "intake-1",
        },
    )
    events = await events_after(database, start)
    assert [(e.event_type, e.resource_type, e.organization_id) for e in events] == [
        ("requested_form_completion.created", "RequestedFormCompletion", org)
    ] * 2
    assert len({e.resource_id for e in events}) == 2


async def test_withdrawing_a_form_request(api: Api, world: World, database: Database) -> None:
    staff = api.with_key(world.a.staff.api_key)
    created = await _payload(
        staff,
        REQUEST_FORM,
        "createRequestedFormCompletion",
        input={"recipient_id": str(world.a.patient_id), "custom_module_form_id": "intake-1"},
    )
    request_id = created["requestedFormCompletion"]["id"]
    start = await last_event_id(database)
    deleted = await _payload(
        staff,
        "mutation($input: deleteRequestedFormInput) { deleteRequestedFormCompletion(input: $input)"
        " { requestedFormCompletion { id } messages { field message } } }",
        "deleteRequestedFormCompletion",
        input={"id": request_id},
    )
    assert deleted["requestedFormCompletion"] == {"id": request_id}
    assert await events_after(database, start) == [
        _event(
            "requested_form_completion.deleted",
            "RequestedFormCompletion",
            request_id,
            world.a.provider.organization_id,
        )
    ]


# --- locations --------------------------------------------------------------------------------


async def test_location_mutations(api: Api, world: World, database: Database) -> None:
    staff = api.with_key(world.a.provider.api_key)
    org = world.a.provider.organization_id
    start = await last_event_id(database)
    created = await _payload(
        staff,
        CREATE_LOCATION,
        "createLocation",
        input={"user_id": str(world.a.patient_id), "line1": "1 Main St", "city": "Albany"},
    )
    location_id = created["location"]["id"]
    await _payload(
        staff,
        UPDATE_LOCATION,
        "updateLocation",
        input={"id": location_id, "city": "Troy", "line2": "Apt 2"},
    )
    await _payload(  # the same values again: nothing changes
        staff, UPDATE_LOCATION, "updateLocation", input={"id": location_id, "city": "Troy"}
    )
    await _payload(staff, DELETE_LOCATION, "deleteLocation", id=location_id)
    assert await events_after(database, start) == [
        _event("location.created", "Location", location_id, org),
        _event("location.updated", "Location", location_id, org, "city", "line2"),
        _event("location.deleted", "Location", location_id, org),
    ]


async def test_update_client_locations_fire_location_events_with_the_patients(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.b.staff.api_key)
    org = world.b.provider.organization_id
    start = await last_event_id(database)
    payload = await _payload(
        staff,
        UPDATE_CLIENT,
        "updateClient",
        input={
            "id": str(world.b.patient_id),
            "first_name": "Newname",
            "locations": [{"name": "Home", "line1": "1 Main St", "city": "Albany"}],
        },
    )
    location_id = payload["user"]["locations"][0]["id"]
    assert await events_after(database, start) == [
        _event("location.created", "Location", location_id, org),
        _event("patient.updated", "User", world.b.patient_id, org, "first_name"),
    ]


async def test_a_write_rolled_back_by_a_later_problem_fires_nothing(
    api: Api, world: World, database: Database
) -> None:
    """updateClient applies the name and then refuses the location: nothing is kept, not even
    the events already added to the transaction."""
    start = await last_event_id(database)
    data = await api.with_key(world.a.provider.api_key).data(
        UPDATE_CLIENT,
        {
            "input": {
                "id": str(world.a.patient_id),
                "first_name": "Rolledback",
                "locations": [{"id": "999999", "city": "Nowhere"}],
            }
        },
    )
    assert data["updateClient"]["messages"]
    assert await events_after(database, start) == []


# --- groups -----------------------------------------------------------------------------------


async def test_deleting_a_group_moves_its_patients_out(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    org = world.a.provider.organization_id
    for patient_id in (world.a.patient_id, world.a.other_patient_id):
        await _payload(
            staff,
            UPDATE_CLIENT,
            "updateClient",
            input={"id": str(patient_id), "user_group_id": str(world.a.group_id)},
        )
    start = await last_event_id(database)
    await _payload(staff, DELETE_USER_GROUP, "deleteUserGroup", id=str(world.a.group_id))
    events = await events_after(database, start)
    assert sorted(events, key=lambda e: e.resource_id) == [
        _event("patient.updated", "User", world.a.patient_id, org, "user_group_id"),
        _event("patient.updated", "User", world.a.other_patient_id, org, "user_group_id"),
    ]


async def test_a_signed_in_patients_checkout_fires_only_the_appointment(
    api: Api, world: World, database: Database
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    start = await last_event_id(database)
    payload = await checkout(
        api.with_token(world.a.patient_token),
        appointment_type_id=type_id,
        provider_id=str(world.a.provider.user_id),
        date=future(days=5).isoformat(),
    )
    assert payload["messages"] is None, payload
    events = await events_after(database, start)
    assert [(e.event_type, e.resource_id) for e in events] == [
        ("appointment.created", int(payload["appointment"]["id"]))
    ]


# --- conversation memberships -----------------------------------------------------------------

CREATE_CONVERSATION = """mutation($users: String) {
  createConversation(input: {simple_added_users: $users}) {
    conversation { id conversation_memberships { id user_id } } messages { field message } } }"""
LEAVE_CONVERSATION = """mutation($input: deleteConversationMembershipInput) {
  deleteConversationMembership(input: $input) {
    conversationMembership { id } messages { field message } } }"""


async def test_conversation_membership_events(api: Api, world: World, database: Database) -> None:
    staff = api.with_key(world.a.provider.api_key)
    org = world.a.provider.organization_id
    patient = str(world.a.patient_id)
    start = await last_event_id(database)
    created = await _payload(
        staff, CREATE_CONVERSATION, "createConversation", users=f"user-{patient}"
    )
    conversation = created["conversation"]
    ids = {m["user_id"]: m["id"] for m in conversation["conversation_memberships"]}
    await _payload(
        staff,
        LEAVE_CONVERSATION,
        "deleteConversationMembership",
        input={"conversation_id": conversation["id"], "user_id": patient},
    )
    mine = ids[str(world.a.provider.user_id)]
    assert await events_after(database, start) == [
        _event("conversation_membership.created", "ConversationMembership", mine, org),
        _event("conversation_membership.created", "ConversationMembership", ids[patient], org),
        _event("conversation_membership.deleted", "ConversationMembership", ids[patient], org),
    ]
