"""The User fields derived from other records: form requests, the onboarding flow,
conversations, upcoming appointments, groups; batched per page; signUp's nextRequiredStep."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from tests.support.api import Api
from tests.support.auth_helpers import group_invite_code
from tests.support.db import statements_sent
from tests.support.emails import REQUEST_FORM
from tests.support.groups import UPDATE_CLIENT_GROUP, add_patients, create_group
from tests.support.note_documents import sent
from tests.support.scheduling import CANCEL, CREATE_APPOINTMENT, create_type, future
from tests.support.seed_documents import SIGN_UP
from tests.support.world import World

from carebook.audit.trail import load_without_trail
from carebook.auth.passwords import Passwords
from carebook.conversations.models import ConversationMembership
from carebook.db.engine import Database
from carebook.forms.models import FormRequestStatus, RequestedFormCompletion

FORMS = """query($id: ID) { user(id: $id, clear_notifs: false) { id
  has_forms_to_complete has_completed_intake_forms requested_form_count
  any_incomplete_onboarding_steps } }"""
CONVERSATIONS = "{ currentUser { id last_conversation_id unread_convo_count } }"
CREATE_CONVERSATION = """mutation($users: String) {
  createConversation(input: {simple_added_users: $users, name: "Care"}) {
    conversation { id } messages { field message } } }"""
UPCOMING = """query($id: ID) { user(id: $id, clear_notifs: false) {
  upcoming_appointments { id start } } }"""
GROUPS = """query($id: ID, $keywords: String) { user(id: $id, clear_notifs: false) {
  user_groups(keywords: $keywords) { id name } } }"""
CREATE_FLOW = """mutation($name: String, $groups: String) {
  createOnboardingFlow(input: {name: $name, groups_to_use_onboarding_flow: $groups}) {
    onboardingFlow { id } messages { field message } } }"""
DERIVED = """has_forms_to_complete requested_form_count has_completed_intake_forms
  any_incomplete_onboarding_steps last_conversation_id unread_convo_count
  upcoming_appointments { id } user_groups { id }"""
PAGE = "query($n: Int) { users(page_size: $n, should_paginate: true) { id %s } }"
SIGN_UP_STEP = SIGN_UP.replace("user { id }", "user { id } nextRequiredStep")


async def _forms(api: Api, world: World, user_id: int) -> dict[str, Any]:
    user: dict[str, Any] = (
        await api.with_key(world.a.staff.api_key).data(FORMS, {"id": str(user_id)})
    )["user"]
    return user


async def _request_form(api: Api, world: World, patient_id: int) -> str:
    variables = {"input": {"recipient_id": str(patient_id), "custom_module_form_id": "intake-1"}}
    payload = (await api.with_key(world.a.provider.api_key).data(REQUEST_FORM, variables))[
        "createRequestedFormCompletion"
    ]
    assert not payload["messages"], payload
    request_id: str = payload["requestedFormCompletion"]["id"]
    return request_id


async def _complete(database: Database, request_id: str) -> None:
    """What completing the form will do (nothing in the API completes a request yet)."""
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(RequestedFormCompletion)
            .where(RequestedFormCompletion.id == int(request_id))
            .values(status=FormRequestStatus.COMPLETED)
        )


async def _flow_for(api: Api, world: World, group_id: int | str) -> str:
    provider = api.with_key(world.a.provider.api_key)
    variables = {"name": "Intake", "groups": str(group_id)}
    payload = (await provider.data(CREATE_FLOW, variables))["createOnboardingFlow"]
    assert not payload["messages"], payload
    flow_id: str = payload["onboardingFlow"]["id"]
    return flow_id


async def _into_group(api: Api, world: World, patient_id: int, group_id: int | str) -> None:
    variables = {"id": str(patient_id), "user_group_id": str(group_id)}
    payload = await api.with_key(world.a.provider.api_key).data(UPDATE_CLIENT_GROUP, variables)
    assert not payload["updateClient"]["messages"], payload


async def test_form_requests_make_forms_to_complete_until_completed(
    api: Api, world: World, database: Database
) -> None:
    assert await _forms(api, world, world.a.patient_id) == {
        "id": str(world.a.patient_id),
        "has_forms_to_complete": False,
        "has_completed_intake_forms": False,
        "requested_form_count": 0,
        "any_incomplete_onboarding_steps": False,
    }
    first = await _request_form(api, world, world.a.patient_id)
    asked = await _forms(api, world, world.a.patient_id)
    assert asked["has_forms_to_complete"] is True
    assert asked["has_completed_intake_forms"] is False
    assert asked["requested_form_count"] == 1

    await _complete(database, first)
    done = await _forms(api, world, world.a.patient_id)
    assert done["has_forms_to_complete"] is False
    assert done["has_completed_intake_forms"] is True
    assert done["requested_form_count"] == 1

    second = await _request_form(api, world, world.a.patient_id)
    again = await _forms(api, world, world.a.patient_id)
    assert (again["has_forms_to_complete"], again["has_completed_intake_forms"]) == (True, False)
    assert again["requested_form_count"] == 2
    await _complete(database, second)
    # Only the patient asked: the other patient has nothing.
    other = await _forms(api, world, world.a.other_patient_id)
    assert (other["requested_form_count"], other["has_forms_to_complete"]) == (0, False)


async def test_an_onboarding_flow_leaves_steps_until_the_intake_forms_are_completed(
    api: Api, world: World, database: Database
) -> None:
    await _into_group(api, world, world.a.patient_id, world.a.group_id)
    in_group = await _forms(api, world, world.a.patient_id)
    assert in_group["any_incomplete_onboarding_steps"] is False  # the group has no flow

    await _flow_for(api, world, world.a.group_id)
    flowing = await _forms(api, world, world.a.patient_id)
    assert flowing["any_incomplete_onboarding_steps"] is True
    assert flowing["has_forms_to_complete"] is True  # the onboarding, though nothing requested

    request_id = await _request_form(api, world, world.a.patient_id)
    await _complete(database, request_id)
    onboarded = await _forms(api, world, world.a.patient_id)
    assert onboarded["any_incomplete_onboarding_steps"] is False
    assert onboarded["has_forms_to_complete"] is False
    # A patient outside the group is not onboarding.
    other = await _forms(api, world, world.a.other_patient_id)
    assert other["any_incomplete_onboarding_steps"] is False


async def test_conversations_give_the_last_id_and_the_unread_count(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    empty = (await patient.data(CONVERSATIONS))["currentUser"]
    assert (empty["last_conversation_id"], empty["unread_convo_count"]) == (None, 0)

    first = await _conversation(provider, world)
    quiet = (await patient.data(CONVERSATIONS))["currentUser"]
    # No message yet: nothing to read.
    assert (quiet["last_conversation_id"], quiet["unread_convo_count"]) == (first, 0)
    await sent(provider, first, "Welcome")
    unread = (await patient.data(CONVERSATIONS))["currentUser"]
    assert (unread["last_conversation_id"], unread["unread_convo_count"]) == (first, 1)
    await sent(patient, first, "Thanks")  # answering is reading
    after = (await patient.data(CONVERSATIONS))["currentUser"]
    assert (after["last_conversation_id"], after["unread_convo_count"]) == (first, 0)

    second = await _conversation(provider, world)
    await sent(provider, second, "Another topic")
    newest = (await patient.data(CONVERSATIONS))["currentUser"]
    assert (newest["last_conversation_id"], newest["unread_convo_count"]) == (second, 1)
    # The patient's answer in the first is unread for the provider.
    own = (await provider.data(CONVERSATIONS))["currentUser"]
    assert (own["last_conversation_id"], own["unread_convo_count"]) == (second, 1)
    # The other patient takes part in neither.
    staff_view = await provider.data(
        "query($id: ID) { user(id: $id, clear_notifs: false) { last_conversation_id } }",
        {"id": str(world.a.other_patient_id)},
    )
    assert staff_view["user"]["last_conversation_id"] is None


async def _conversation(provider: Api, world: World, org: Any = None) -> str:
    patient_id = (org or world.a).patient_id
    payload = (await provider.data(CREATE_CONVERSATION, {"users": str(patient_id)}))[
        "createConversation"
    ]
    assert not payload["messages"], payload
    conversation_id: str = payload["conversation"]["id"]
    return conversation_id


async def test_upcoming_appointments_leave_out_cancelled_ones(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    type_id = await create_type(provider)
    booked = []
    for days in (5, 2):
        variables = {
            "user_id": str(world.a.patient_id),
            "providers": str(world.a.provider.user_id),
            "type": type_id,
            "datetime": future(days).isoformat(),
            "timezone": "UTC",
        }
        payload = (await provider.data(CREATE_APPOINTMENT, variables))["createAppointment"]
        assert not payload["messages"], payload
        booked.append(payload["appointment"]["id"])
    upcoming = (await provider.data(UPCOMING, {"id": str(world.a.patient_id)}))["user"]
    assert [a["id"] for a in upcoming["upcoming_appointments"]] == [booked[1], booked[0]]

    await provider.data(CANCEL, {"id": booked[1]})
    upcoming = (await provider.data(UPCOMING, {"id": str(world.a.patient_id)}))["user"]
    assert [a["id"] for a in upcoming["upcoming_appointments"]] == [booked[0]]
    other = (await provider.data(UPCOMING, {"id": str(world.a.other_patient_id)}))["user"]
    assert other["upcoming_appointments"] == []
    # A provider's are the ones with them; their colleague has none.
    mine = (await provider.data(UPCOMING, {"id": str(world.a.provider.user_id)}))["user"]
    assert [a["id"] for a in mine["upcoming_appointments"]] == [booked[0]]
    staff = (await provider.data(UPCOMING, {"id": str(world.a.staff.user_id)}))["user"]
    assert staff["upcoming_appointments"] == []
    # The patient reads their own.
    mine = await api.with_token(world.a.patient_token).data(UPCOMING, {"id": None})
    assert mine["user"] is None  # no id: no user (or_current_user is false)
    own = await api.with_token(world.a.patient_token).data(
        "{ currentUser { upcoming_appointments { id } } }"
    )
    assert [a["id"] for a in own["currentUser"]["upcoming_appointments"]] == [booked[0]]


async def test_user_groups_are_a_patients_group_and_a_providers_organization_groups(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    second = await create_group(provider, "Another group")
    patient_groups = (await provider.data(GROUPS, {"id": str(world.a.patient_id)}))["user"]
    assert patient_groups["user_groups"] == []
    await _into_group(api, world, world.a.patient_id, world.a.group_id)
    patient_groups = (await provider.data(GROUPS, {"id": str(world.a.patient_id)}))["user"]
    assert patient_groups["user_groups"] == [{"id": str(world.a.group_id), "name": "Group a"}]

    staff = (await provider.data(GROUPS, {"id": str(world.a.staff.user_id)}))["user"]
    # The organization's groups by name, none of organization B's.
    assert staff["user_groups"] == [
        {"id": second, "name": "Another group"},
        {"id": str(world.a.group_id), "name": "Group a"},
    ]
    only = await provider.data(GROUPS, {"id": str(world.a.staff.user_id), "keywords": "anoth"})
    assert only["user"]["user_groups"] == [{"id": second, "name": "Another group"}]

    # A patient reads their own group, and none of their provider's.
    patient = api.with_token(world.a.patient_token)
    own = (
        await patient.data(
            "{ currentUser { user_groups { id } dietitian { user_groups { id } } } }"
        )
    )["currentUser"]
    assert own == {"user_groups": [{"id": str(world.a.group_id)}], "dietitian": {"user_groups": []}}


async def test_a_page_of_users_reads_each_derived_field_once_and_only_when_selected(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    await add_patients(database, passwords, world.a, 6, group_id=world.a.group_id)
    await provider.data(PAGE % DERIVED, {"n": 2})  # warm: the first request of the app

    with statements_sent(database) as small:
        small_page = (await provider.data(PAGE % DERIVED, {"n": 2}))["users"]
    with statements_sent(database) as large:
        large_page = (await provider.data(PAGE % DERIVED, {"n": 8}))["users"]
    assert (len(small_page), len(large_page)) == (2, 8)
    # One statement per field for the page, whatever its size.
    assert len(large) == len(small)
    derived_tables = ("requested_form_completions", "conversation_memberships", "appointments")
    assert [s for s in large if any(t in s for t in derived_tables)]

    with statements_sent(database) as plain:
        await provider.data(PAGE % "first_name", {"n": 8})
    assert not [s for s in plain if any(t in s for t in derived_tables)]


async def test_sign_up_names_the_onboarding_flow_as_the_next_step(
    api: Api, world: World, database: Database
) -> None:
    code = await group_invite_code(database, world.a.group_id)
    variables = {
        "first_name": "Mei",
        "last_name": "Chen",
        "password": "b@se3ball rocks",
        "role": "patient",
        "invite_code": code,
    }
    plain = (await api.data(SIGN_UP_STEP, {**variables, "email": "mei@example.com"}))["signUp"]
    assert not plain["messages"], plain
    assert plain["nextRequiredStep"] is None  # the group has no onboarding flow

    await _flow_for(api, world, world.a.group_id)
    onboarding = (await api.data(SIGN_UP_STEP, {**variables, "email": "lin@example.com"}))["signUp"]
    assert not onboarding["messages"], onboarding
    assert onboarding["nextRequiredStep"] == "onboarding"
    new_id = onboarding["user"]["id"]
    record = await _forms(api, world, int(new_id))
    assert record["any_incomplete_onboarding_steps"] is True

    refused = (await api.data(SIGN_UP_STEP, {**variables, "email": "not an email"}))["signUp"]
    assert refused["messages"] and refused["nextRequiredStep"] is None


async def test_a_conversation_of_another_organization_never_counts(
    api: Api, database: Database, world: World
) -> None:
    """A membership no service makes (a patient of A in a conversation of B, written by hand)
    shows in neither derived field: both read only conversations of the user's organization."""
    theirs = await _conversation(api.with_key(world.b.provider.api_key), world, world.b)
    async with database.write_sessions() as session, session.begin():
        load_without_trail(session)
        session.add(ConversationMembership(conversation_id=int(theirs), user_id=world.a.patient_id))
    patient = api.with_token(world.a.patient_token)
    me = (await patient.data(CONVERSATIONS))["currentUser"]
    assert (me["last_conversation_id"], me["unread_convo_count"]) == (None, 0)
