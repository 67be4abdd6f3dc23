"""Conversations and memberships through HTTP, in the image of an integration's documents.

The documents are shaped like those a Healthie integration sends to send a chat message (find
the patient's individual conversation with a provider, else create it), read a conversation and
close one; the rules are Carebook's (docs/api.md, Conversations).
"""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.events import events_after, last_event_id
from tests.support.world import World

from carebook.db.engine import Database

CREATE = """mutation createConversation($simple_added_users: String, $owner_id: ID,
  $name: String) {
  createConversation(input: {simple_added_users: $simple_added_users, owner_id: $owner_id,
    name: $name}) {
    conversation { id } messages { field message } } }"""

GET = """query getConversation($id: ID) { conversation(id: $id) {
  id patient_id name dietitian_id created_at updated_at closed_date closed_by { id }
  owner { id } invitees { id } conversation_memberships_count includes_multiple_clients
  conversation_memberships { id user_id viewed archived }
  current_user_conversation_membership { id user_id } } }"""

LIST = """query getConversationList($offset: Int, $keywords: String, $active_status: String,
  $client_id: String, $read_status: String, $conversation_type: String, $provider_id: ID) {
  conversationMembershipsCount(keywords: $keywords, active_status: $active_status,
    client_id: $client_id, read_status: $read_status, conversation_type: $conversation_type,
    provider_id: $provider_id)
  conversationMemberships(offset: $offset, keywords: $keywords, active_status: $active_status,
    client_id: $client_id, read_status: $read_status, conversation_type: $conversation_type,
    provider_id: $provider_id) {
    id display_name archived viewed
    convo { id conversation_memberships_count owner { id } } } }"""

UPDATE = """mutation updateConversation($input: updateConversationInput!) {
  updateConversation(input: $input) { conversation { id name } messages { field message } } }"""

UPDATE_MEMBERSHIP = """mutation($input: updateConversationMembershipInput) {
  updateConversationMembership(input: $input) {
    conversation_membership { id viewed archived } messages { field message } } }"""

DELETE_MEMBERSHIP = """mutation($input: deleteConversationMembershipInput) {
  deleteConversationMembership(input: $input) {
    conversationMembership { id user_id } messages { field message } } }"""


async def _create(api: Api, **variables: Any) -> str:
    payload = (await api.data(CREATE, variables))["createConversation"]
    assert payload["messages"] is None, payload
    conversation_id: str = payload["conversation"]["id"]
    return conversation_id


async def _conversation(api: Api, conversation_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await api.data(GET, {"id": conversation_id}))["conversation"]
    return found


async def _list(api: Api, **variables: Any) -> tuple[int, list[dict[str, Any]]]:
    data = await api.data(LIST, variables)
    return data["conversationMembershipsCount"], data["conversationMemberships"]


def _individual(patient: int) -> dict[str, Any]:
    """The lookup an integration makes before sending a message to a patient."""
    return {"client_id": str(patient), "active_status": "active", "conversation_type": "individual"}


async def test_send_chat_message_flow_finds_the_conversation_it_created(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient, provider_id = world.a.patient_id, str(world.a.provider.user_id)
    assert await _list(provider, **_individual(patient)) == (0, [])
    after = await last_event_id(database)
    # The integration also sends Healthie's deprecated dietitian_id and patient_id as variables
    # the document does not declare: they are ignored, not an error.
    created = await _create(
        provider,
        simple_added_users=f"user-{patient}",
        owner_id=provider_id,
        name="Questions for Next Appointment",
        dietitian_id=provider_id,
        patient_id=str(patient),
    )
    conversation = await _conversation(provider, created)
    assert conversation is not None
    assert conversation["patient_id"] == str(patient)
    assert conversation["owner"] == {"id": provider_id}
    assert conversation["dietitian_id"] == provider_id
    assert conversation["invitees"] == [{"id": str(patient)}]
    assert conversation["conversation_memberships_count"] == 2
    assert conversation["includes_multiple_clients"] is False
    assert conversation["closed_date"] is None and conversation["closed_by"] is None
    mine = conversation["current_user_conversation_membership"]
    assert mine["user_id"] == provider_id
    memberships = conversation["conversation_memberships"]
    assert {m["user_id"] for m in memberships} == {provider_id, str(patient)}
    assert all(m["viewed"] is True and m["archived"] is False for m in memberships)
    # One webhook event per membership, naming it.
    events = await events_after(database, after)
    assert [(e.event_type, e.resource_type) for e in events] == [
        ("conversation_membership.created", "ConversationMembership")
    ] * 2
    assert {str(e.resource_id) for e in events} == {m["id"] for m in memberships}

    count, found = await _list(provider, **_individual(patient))
    assert count == 1
    [membership] = found
    assert membership["convo"]["id"] == created
    assert membership["convo"]["owner"] == {"id": provider_id}
    assert membership["convo"]["conversation_memberships_count"] == 2
    assert membership["display_name"] == "Questions for Next Appointment"
    assert (membership["viewed"], membership["archived"]) == (True, False)
    # Not a group conversation, and not one of another client.
    assert await _list(provider, **{**_individual(patient), "conversation_type": "group"}) == (
        0,
        [],
    )
    other = _individual(world.a.other_patient_id)
    assert await _list(provider, **other) == (0, [])


async def test_staff_start_a_conversation_for_a_provider(api: Api, world: World) -> None:
    """owner_id names the provider: the conversation is theirs and the client's, not the
    caller's; the caller finds it through provider_id."""
    staff = api.with_key(world.a.staff.api_key)
    provider_id = str(world.a.provider.user_id)
    created = await _create(staff, simple_added_users=str(world.a.patient_id), owner_id=provider_id)
    lookup = _individual(world.a.patient_id)
    assert await _list(staff, **lookup) == (0, [])
    count, found = await _list(staff, **lookup, provider_id=provider_id)
    assert count == 1 and found[0]["convo"]["id"] == created
    # Unnamed, a membership shows the other member's name.
    named = await staff.data("query($id: ID) { user(id: $id) { full_name } }",
                             {"id": str(world.a.patient_id)})  # fmt: skip
    provider_name = await staff.data("query($id: ID) { user(id: $id) { full_name } }",
                                     {"id": provider_id})  # fmt: skip
    # The provider's membership shows the client's name (the one other member).
    assert found[0]["display_name"] == named["user"]["full_name"]
    assert named["user"]["full_name"] != provider_name["user"]["full_name"]

    patient = api.with_token(world.a.patient_token)
    refused = (await patient.data(CREATE, {"owner_id": provider_id}))["createConversation"]
    assert refused["conversation"] is None
    assert refused["messages"] == [{"field": "owner_id", "message": "Owner not found"}]


async def test_a_group_adds_its_patients(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    group = str(world.a.group_id)
    for patient in (world.a.patient_id, world.a.other_patient_id):
        moved = await provider.data(
            "mutation($i: updateClientInput) { updateClient(input: $i) { messages { message } } }",
            {"i": {"id": str(patient), "user_group_id": group}},
        )
        assert moved["updateClient"]["messages"] is None
    created = await _create(provider, simple_added_users=f"group-{group}", name="Cohort")
    conversation = await _conversation(provider, created)
    assert conversation is not None
    members = {m["user_id"] for m in conversation["conversation_memberships"]}
    assert members == {
        str(world.a.provider.user_id),
        str(world.a.patient_id),
        str(world.a.other_patient_id),
    }
    assert conversation["includes_multiple_clients"] is True
    # A patient sees the other patient as a member, not their membership (read, archived).
    patient = api.with_token(world.a.patient_token)
    seen = await _conversation(patient, created)
    assert seen is not None
    assert {m["user_id"] for m in seen["conversation_memberships"]} == {
        str(world.a.provider.user_id),
        str(world.a.patient_id),
    }
    assert str(world.a.other_patient_id) in {u["id"] for u in seen["invitees"]}
    group_lookup = {"client_id": str(world.a.patient_id), "conversation_type": "group"}
    assert (await _list(provider, **group_lookup))[0] == 1


async def test_closing_archives_the_conversation_for_its_members(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    provider_id = str(world.a.provider.user_id)
    created = await _create(provider, simple_added_users=str(world.a.patient_id), name="Intake")
    # As an integration's "close chat conversation" action sends it.
    closed = await provider.data(
        UPDATE, {"input": {"id": created, "closed_by_id": provider_id, "name": "Intake (done)"}}
    )
    assert closed["updateConversation"] == {
        "conversation": {"id": created, "name": "Intake (done)"},
        "messages": None,
    }
    conversation = await _conversation(provider, created)
    assert conversation is not None
    assert conversation["closed_by"] == {"id": provider_id}
    assert conversation["closed_date"] is not None
    lookup = _individual(world.a.patient_id)
    assert await _list(provider, **lookup) == (0, [])
    count, found = await _list(provider, **{**lookup, "active_status": "archived"})
    assert count == 1 and found[0]["convo"]["id"] == created
    patient = api.with_token(world.a.patient_token)
    assert (await _list(patient, active_status="all"))[0] == 1
    assert (await _list(patient))[0] == 0

    # A patient may not change a conversation; an unknown closer changes nothing.
    refused = await patient.data(UPDATE, {"input": {"id": created, "name": "Mine"}})
    assert refused["updateConversation"]["conversation"] is None
    unknown = await provider.data(UPDATE, {"input": {"id": created, "closed_by_id": "999999"}})
    assert unknown["updateConversation"]["messages"] == [
        {"field": "closed_by_id", "message": "User not found"}
    ]


async def test_update_conversation_sets_the_members(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient, other, staff = world.a.patient_id, world.a.other_patient_id, world.a.staff.user_id
    created = await _create(provider, simple_added_users=f"user-{patient},user-{other}")
    after = await last_event_id(database)
    changed = await provider.data(
        UPDATE, {"input": {"id": created, "simple_added_users": f"user-{patient},user-{staff}"}}
    )
    assert changed["updateConversation"]["messages"] is None
    conversation = await _conversation(provider, created)
    assert conversation is not None
    members = {m["user_id"] for m in conversation["conversation_memberships"]}
    assert members == {str(world.a.provider.user_id), str(patient), str(staff)}
    events = [e.event_type for e in await events_after(database, after)]
    assert sorted(events) == ["conversation_membership.created", "conversation_membership.deleted"]


async def test_a_member_marks_read_and_archives_their_own_membership(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    created = await _create(provider, simple_added_users=str(world.a.patient_id))
    [mine] = (await _list(patient))[1]
    unread = await patient.data(UPDATE_MEMBERSHIP, {"input": {"id": mine["id"], "viewed": False}})
    assert unread["updateConversationMembership"] == {
        "conversation_membership": {"id": mine["id"], "viewed": False, "archived": False},
        "messages": None,
    }
    assert (await _list(patient, read_status="unread"))[0] == 1
    assert (await _list(patient, read_status="read"))[0] == 0
    archived = await patient.data(
        UPDATE_MEMBERSHIP, {"input": {"id": mine["id"], "viewed": True, "archived": True}}
    )
    assert archived["updateConversationMembership"]["conversation_membership"]["archived"]
    assert (await _list(patient))[0] == 0
    assert (await _list(patient, active_status="archived"))[0] == 1
    # The provider's own membership is unchanged: archiving is one member's.
    provider_lookup = await _list(provider, **_individual(world.a.patient_id))
    assert provider_lookup[0] == 1 and provider_lookup[1][0]["convo"]["id"] == created

    # A patient cannot change another member's membership.
    theirs = provider_lookup[1][0]["id"]
    refused = await patient.data(UPDATE_MEMBERSHIP, {"input": {"id": theirs, "archived": True}})
    assert refused["updateConversationMembership"] == {
        "conversation_membership": None,
        "messages": [{"field": "id", "message": "Conversation membership not found"}],
    }


async def test_a_removed_member_loses_access_at_once(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    created = await _create(provider, simple_added_users=str(world.a.patient_id))
    assert await _conversation(patient, created) is not None
    [mine] = (await _list(patient))[1]
    by_id = "query($m: ID) { conversationMembership(conversation_membership_id: $m) { id } }"
    assert (await patient.data(by_id, {"m": mine["id"]}))["conversationMembership"] == {
        "id": mine["id"]
    }

    after = await last_event_id(database)
    removed = await provider.data(
        DELETE_MEMBERSHIP,
        {"input": {"conversation_id": created, "user_id": str(world.a.patient_id)}},
    )
    assert removed["deleteConversationMembership"] == {
        "conversationMembership": {"id": mine["id"], "user_id": str(world.a.patient_id)},
        "messages": None,
    }
    events = await events_after(database, after)
    assert [(e.event_type, str(e.resource_id)) for e in events] == [
        ("conversation_membership.deleted", mine["id"])
    ]
    assert await _conversation(patient, created) is None
    assert await _list(patient, active_status="all") == (0, [])
    assert (await patient.data(by_id, {"m": mine["id"]}))["conversationMembership"] is None
    conversations = await patient.data("{ conversations { id } }")
    assert conversations == {"conversations": []}

    # The owner stays; removing someone who is not a member changes nothing.
    owner = await provider.data(
        DELETE_MEMBERSHIP,
        {"input": {"conversation_id": created, "user_id": str(world.a.provider.user_id)}},
    )
    assert owner["deleteConversationMembership"]["messages"] == [
        {"field": "user_id", "message": "The owner can't be removed from the conversation"}
    ]
    again = await provider.data(
        DELETE_MEMBERSHIP,
        {"input": {"conversation_id": created, "user_id": str(world.a.patient_id)}},
    )
    assert again["deleteConversationMembership"]["messages"] == [
        {"field": "user_id", "message": "User is not a member of the conversation"}
    ]


async def test_a_patient_sees_only_conversations_they_take_part_in(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    theirs = await _create(provider, simple_added_users=str(world.a.other_patient_id))
    mine = await _create(provider, simple_added_users=str(world.a.patient_id))
    assert await _conversation(patient, theirs) is None
    assert await _conversation(patient, mine) is not None
    owner_of_theirs = "query($id: ID) { conversationMembership(id: $id) { id } }"
    assert (await patient.data(owner_of_theirs, {"id": theirs}))["conversationMembership"] is None
    # Naming the provider or the other client shows a patient nothing of theirs.
    provider_id = str(world.a.provider.user_id)
    assert await _list(patient, provider_id=provider_id, active_status="all") == (0, [])
    count, found = await _list(patient, client_id=str(world.a.other_patient_id))
    assert (count, found) == (0, [])
    listed = await patient.data("query($u: ID) { conversations(user_id: $u) { id } }",
                                {"u": provider_id})  # fmt: skip
    assert listed == {"conversations": [{"id": mine}]}
    # Another organization's provider sees none of them.
    foreign = api.with_key(world.b.provider.api_key)
    assert await _conversation(foreign, mine) is None
    remove = {"conversation_id": mine, "user_id": str(world.a.patient_id)}
    refused = await foreign.data(DELETE_MEMBERSHIP, {"input": remove})
    assert refused["deleteConversationMembership"]["messages"] == [
        {"field": "conversation_id", "message": "Conversation not found"}
    ]


async def test_filters_outside_healthies_values_are_refused(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    for name in ("active_status", "read_status", "conversation_type"):
        query = f'{{ conversationMemberships({name}: "sideways") {{ id }} }}'
        assert await provider.error_codes(query) == ["BAD_USER_INPUT"]


async def test_keywords_and_order(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    first = await _create(provider, simple_added_users=str(world.a.patient_id), name="Billing")
    second = await _create(provider, simple_added_users=str(world.a.patient_id), name="Diet plan")
    count, found = await _list(provider, keywords="diet")
    assert count == 1 and found[0]["convo"]["id"] == second
    ordered = await provider.data(
        "{ conversationMemberships(order_by: CONVERSATION_CREATED_AT_ASC) { convo { id } } }"
    )
    assert [m["convo"]["id"] for m in ordered["conversationMemberships"]] == [first, second]
    newest = await provider.data("{ conversationMemberships { convo { id } } }")
    assert [m["convo"]["id"] for m in newest["conversationMemberships"]] == [second, first]
