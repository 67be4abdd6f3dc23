"""The review findings of issue 29 on messages, through HTTP: a message sent in another's
name does not mark them as having read, and a closed conversation takes no replies from
patients and makes nobody unread or emailed."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.emails import outbox_rows
from tests.support.note_documents import (
    CONVERSATION,
    NOTE,
    conversation_with,
    send,
    sent,
    session_of,
    unread,
)
from tests.support.world import World

from carebook.db.engine import Database
from carebook.notifications.models import EmailKind

UPDATE_CONVERSATION = """mutation($input: updateConversationInput) {
  updateConversation(input: $input) { conversation { id } messages { field message } } }"""


async def _close(provider: Api, world: World, conversation_id: str) -> None:
    variables = {"input": {"id": conversation_id, "closed_by_id": str(world.a.provider.user_id)}}
    out = await provider.data(UPDATE_CONVERSATION, variables)
    assert out["updateConversation"]["messages"] is None, out


async def _message_emails(database: Database) -> int:
    return sum(row.kind == EmailKind.NEW_MESSAGE for row in await outbox_rows(database))


async def test_a_message_sent_in_a_providers_name_leaves_them_unread(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    staff = api.with_key(world.a.staff.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    await sent(provider, conversation_id, "Hello")
    question = await sent(patient, conversation_id, "I have chest pain")
    assert await unread(provider) == 1
    # An integration (Awell's SendChatMessage) writes as the provider.
    await sent(staff, conversation_id, "Automated reminder", user_id=str(world.a.provider.user_id))
    assert await unread(provider) == 1
    variables = {"id": question, "viewer": str(world.a.provider.user_id)}
    assert (await patient.data(NOTE, variables))["note"]["other"] is False
    # The provider's own answer does follow reading.
    await sent(provider, conversation_id, "Call us now")
    assert await unread(provider) == 0
    assert (await patient.data(NOTE, variables))["note"]["other"] is True


async def test_a_patient_cannot_reply_in_a_closed_conversation(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    await sent(provider, conversation_id, "Hello")
    await _close(provider, world, conversation_id)
    before = await unread(provider)
    payload = await send(patient, conversation_id, "After closing")
    assert payload["note"] is None
    closed = "The conversation is closed: it takes no more replies"
    assert payload["messages"] == [{"field": "conversation_id", "message": closed}]
    assert await unread(provider) == before


async def test_a_closed_conversation_makes_nobody_unread_or_emailed(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    await sent(provider, conversation_id, "Hello")
    assert await unread(patient) == 1
    await _close(provider, world, conversation_id)
    assert await unread(patient) == 0
    emails = await _message_emails(database)
    await patient.data(  # the patient reads: the next message would make them newly unread
        """mutation($id: ID) { updateConversationMembership(input: {id: $id, viewed: true}) {
          messages { message } } }""",
        {"id": await _membership(patient)},
    )
    await sent(provider, conversation_id, "A last word")  # staff may still write
    assert await unread(patient) == 0
    assert await _message_emails(database) == emails


async def _membership(caller: Api) -> str:
    rows = (await caller.data('{ conversationMemberships(active_status: "archived") { id } }'))[
        "conversationMemberships"
    ]
    assert len(rows) == 1, rows
    membership_id: str = rows[0]["id"]
    return membership_id


async def test_a_preview_keeps_markup_encoded(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    await sent(provider, conversation_id, "<p>&lt;img src=x onerror=alert(1)&gt; &amp; more</p>")
    convo = (await provider.data(CONVERSATION, {"id": conversation_id}))["conversation"]
    assert convo["last_message_content"] == "&lt;img src=x onerror=alert(1)&gt; &amp; more"


async def test_a_patient_cannot_learn_whether_another_patient_read(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    members = f"user-{world.a.patient_id},user-{world.a.other_patient_id}"
    conversation_id = await conversation_with(provider, members)
    note = await sent(provider, conversation_id, "Hello both")
    patient = api.with_token(world.a.patient_token)
    other = api.with_token(await session_of(database, world.a.other_patient_id))
    await sent(other, conversation_id, "Thanks")  # the other patient has read
    about_other = {"id": note, "viewer": str(world.a.other_patient_id)}
    assert (await patient.data(NOTE, about_other))["note"]["other"] is None
    assert (await provider.data(NOTE, about_other))["note"]["other"] is True
    about_self = {"id": note, "viewer": str(world.a.patient_id)}
    assert (await patient.data(NOTE, about_self))["note"]["other"] is False
    about_provider = {"id": note, "viewer": str(world.a.provider.user_id)}
    assert (await other.data(NOTE, about_provider))["note"]["other"] is True


async def _mark_read(caller: Api) -> None:
    rows = (await caller.data('{ conversationMemberships(active_status: "active") { id } }'))[
        "conversationMemberships"
    ]
    assert len(rows) == 1, rows
    out = await caller.data(
        """mutation($id: ID) { updateConversationMembership(input: {id: $id, viewed: true}) {
          messages { message } } }""",
        {"id": rows[0]["id"]},
    )
    assert out["updateConversationMembership"]["messages"] is None, out


async def test_a_read_receipt_stays_when_a_newer_message_comes(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    first = await sent(provider, conversation_id, "One")
    await _mark_read(patient)
    second = await sent(provider, conversation_id, "Two")
    reader = str(world.a.patient_id)
    assert (await provider.data(NOTE, {"id": first, "viewer": reader}))["note"]["other"] is True
    assert (await provider.data(NOTE, {"id": second, "viewer": reader}))["note"]["other"] is False
    assert await unread(patient) == 1


async def test_a_member_added_later_has_read_none_of_the_history(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    history = await sent(provider, conversation_id, "Before you came")
    members = f"user-{world.a.patient_id},user-{world.a.other_patient_id}"
    out = await provider.data(
        UPDATE_CONVERSATION,
        {"input": {"id": conversation_id, "simple_added_users": members}},
    )
    assert out["updateConversation"]["messages"] is None, out
    newcomer = {"id": history, "viewer": str(world.a.other_patient_id)}
    assert (await provider.data(NOTE, newcomer))["note"]["other"] is False
