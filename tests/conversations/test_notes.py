"""Chat messages (Healthie's Note) through HTTP, as the reference integration sends and reads
them: createNote, note, notes, notesCount, updateNote, deleteNote, the conversation's messages,
read receipts and unread counts, visibility, and the webhook events."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.events import events_after, last_event_id
from tests.support.note_documents import (
    CONVERSATION,
    DELETE_NOTE,
    GET_MESSAGE,
    NOTE,
    NOTES,
    UPDATE_NOTE,
    conversation_with,
    send,
    sent,
    session_of,
    unread,
)
from tests.support.world import World

from carebook.db.engine import Database
from carebook.times import EXAMPLES

HOSTILE = (
    '<p>Hello <b>Pat</b>,<script>alert("x")</script> see '
    '<a href="javascript:steal()" onclick="steal()">this</a> and '
    '<a href="https://example.org/care">that</a><img src="https://tracker.example/p.gif"></p>'
    "<p>Fish &amp; chips</p>"
)


async def test_send_chat_message_then_get_message_as_the_reference_does(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    before = await last_event_id(database)
    payload = await send(provider, conversation_id, HOSTILE, user_id=str(world.a.provider.user_id))
    assert payload["messages"] is None
    note = payload["note"]
    assert note["user_id"] == str(world.a.provider.user_id)
    assert note["recipient_id"] == str(world.a.patient_id)  # the other member of two

    got = (await provider.data(GET_MESSAGE, {"id": note["id"]}))["note"]
    assert got == {"id": note["id"], "conversation_id": conversation_id}

    # The patient reads it: the HTML is sanitized by an allow-list, not by patterns.
    patient = api.with_token(world.a.patient_token)
    read = (await patient.data(NOTE, {"id": note["id"]}))["note"]
    content = read["content"]
    assert "<b>Pat</b>" in content and 'href="https://example.org/care"' in content
    for gone in ("<script", "alert", "javascript:", "onclick", "<img", "tracker"):
        assert gone not in content
    assert read["creator"] == {"id": str(world.a.provider.user_id)}
    assert (read["is_autoresponse"], read["deleted_by_user"], read["scheduled_at"]) == (
        False,
        False,
        None,
    )
    convo = (await patient.data(CONVERSATION, {"id": conversation_id}))["conversation"]
    assert convo["last_message_content"] == "Hello Pat, see this and that Fish &amp; chips"
    assert [n["id"] for n in convo["notes"]] == [note["id"]]

    events = await events_after(database, before)
    assert [(e.event_type, e.resource_type, e.resource_id) for e in events] == [
        ("message.created", "Note", int(note["id"]))
    ]


async def test_a_new_message_is_unread_for_the_others_until_they_answer(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    assert (await unread(patient), await unread(provider)) == (0, 0)

    first = await sent(provider, conversation_id, "How are you?")
    assert (await unread(patient), await unread(provider)) == (1, 0)
    seen = (await provider.data(NOTE, {"id": first, "viewer": str(world.a.patient_id)}))["note"]
    assert (seen["viewed"], seen["other"]) == (False, False)
    await sent(provider, conversation_id, "Still there?")
    assert await unread(patient) == 1  # one conversation, however many messages

    await sent(patient, conversation_id, "Fine, thanks")
    assert (await unread(patient), await unread(provider)) == (0, 1)
    seen = (await provider.data(NOTE, {"id": first, "viewer": str(world.a.patient_id)}))["note"]
    assert (seen["viewed"], seen["other"]) == (True, True)  # an answer follows reading


async def test_only_members_read_and_write_the_messages(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    note_id = await sent(provider, conversation_id, "Your results are in")

    outsider = api.with_token(await session_of(database, world.a.other_patient_id))
    assert (await outsider.data(GET_MESSAGE, {"id": note_id}))["note"] is None
    listed = await outsider.data(NOTES, {"cid": conversation_id})
    assert listed == {"notes": [], "notesCount": 0}
    refused = await send(outsider, conversation_id, "let me in")
    assert refused["note"] is None
    assert refused["messages"] == [
        {"field": "conversation_id", "message": "Conversation not found"}
    ]
    other_org = api.with_key(world.b.provider.api_key)
    assert (await other_org.data(GET_MESSAGE, {"id": note_id}))["note"] is None
    assert (await other_org.data(NOTES, {"cid": conversation_id}))["notesCount"] == 0

    # Staff of the organization see it; writing takes a member (the staff member is none).
    staff = api.with_key(world.a.staff.api_key)
    assert (await staff.data(GET_MESSAGE, {"id": note_id}))["note"]["id"] == note_id
    not_member = await send(staff, conversation_id, "hello")
    assert not_member["messages"][0]["field"] == "user_id"
    # A patient writes only as themselves; staff only in the name of a member who is staff.
    patient = api.with_token(world.a.patient_token)
    as_provider = await send(patient, conversation_id, "hi", user_id=str(world.a.provider.user_id))
    assert as_provider["messages"] == [{"field": "user_id", "message": "User not found"}]
    as_patient = await send(provider, conversation_id, "hi", user_id=str(world.a.patient_id))
    assert as_patient["messages"] == [{"field": "user_id", "message": "User not found"}]
    assert (await provider.data(NOTES, {"cid": conversation_id}))["notesCount"] == 1


async def test_bad_input_is_a_message_and_writes_nothing(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    before = await last_event_id(database)
    cases = [
        ({"content": "   "}, "content", "Content can't be blank"),
        ({"content": "<script>only()</script>"}, "content", "Content can't be blank"),
        ({"content": "x" * 20_001}, "content", "Content is too long (at most 20000 characters)"),
        (
            {"content": "later", "scheduled_at": "next week"},
            "scheduled_at",
            f"'next week' is not a date and time ({EXAMPLES})",
        ),
    ]
    for fields, field, message in cases:
        payload = await send(provider, conversation_id, **fields)  # type: ignore[arg-type]
        assert payload == {"messages": [{"field": field, "message": message}], "note": None}
    for bad_id in ("", "abc", "999999"):
        payload = await send(api.with_key(world.a.provider.api_key), bad_id, "hi")
        assert payload["messages"][0]["field"] == "conversation_id"
    assert (await provider.data(NOTES, {"cid": conversation_id}))["notesCount"] == 0
    assert await events_after(database, before) == []
    patient = api.with_token(world.a.patient_token)
    assert await unread(patient) == 0


async def test_notes_pages_orders_and_searches(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    ids = [
        await sent(provider, conversation_id, "<p>Blood <em>pressure</em> is fine</p>"),
        await sent(patient, conversation_id, "Thanks! 100% relieved"),
        await sent(provider, conversation_id, "Next visit in March"),
    ]
    other = await conversation_with(provider, str(world.a.patient_id), name="Other")
    await sent(provider, other, "Elsewhere")

    newest_first = await patient.data(NOTES, {"cid": conversation_id})
    assert [n["id"] for n in newest_first["notes"]] == ids[::-1]
    assert newest_first["notesCount"] == 3
    oldest = await patient.data(NOTES, {"cid": conversation_id, "order": "CREATED_AT_ASC"})
    assert [n["id"] for n in oldest["notes"]] == ids
    page = await patient.data(NOTES, {"cid": conversation_id, "size": 2, "offset": 1})
    assert [n["id"] for n in page["notes"]] == [ids[1], ids[0]]
    first = await patient.data(NOTES, {"cid": conversation_id, "size": 1})
    after = await patient.data(
        NOTES, {"cid": conversation_id, "size": 1, "after": first["notes"][0]["cursor"]}
    )
    assert [n["id"] for n in after["notes"]] == [ids[1]]
    since = await patient.data(NOTES, {"cid": conversation_id, "since": ids[0]})
    assert [n["id"] for n in since["notes"]] == [ids[2], ids[1]]
    found = await patient.data(NOTES, {"cid": conversation_id, "keywords": "PRESSURE fine"})
    assert ([n["id"] for n in found["notes"]], found["notesCount"]) == ([ids[0]], 1)
    literal = await patient.data(NOTES, {"cid": conversation_id, "keywords": "100%"})
    assert [n["id"] for n in literal["notes"]] == [ids[1]]  # % is a character, not a wildcard
    everywhere = await patient.data(NOTES, {})
    assert everywhere["notesCount"] == 4


async def test_the_writer_changes_and_deletes_their_message(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    note_id = await sent(provider, conversation_id, "Take 2 pills")

    refused = (await patient.data(UPDATE_NOTE, {"input": {"id": note_id, "content": "Take 20"}}))[
        "updateNote"
    ]
    assert refused["messages"][0]["field"] == "id" and refused["note"] is None
    changed = (
        await provider.data(
            UPDATE_NOTE, {"input": {"id": note_id, "content": "<p>Take 1 pill<script></script>"}}
        )
    )["updateNote"]
    assert changed["messages"] is None
    assert changed["note"]["content"] == "<p>Take 1 pill</p>"
    moved = (
        await provider.data(UPDATE_NOTE, {"input": {"id": note_id, "conversation_id": "999999"}})
    )["updateNote"]
    assert moved["messages"][0]["field"] == "conversation_id"

    before = await last_event_id(database)
    assert (await patient.data(DELETE_NOTE, {"input": {"id": note_id}}))["deleteNote"]["messages"][
        0
    ]["field"] == "id"
    deleted = (
        await provider.data(DELETE_NOTE, {"input": {"id": note_id, "deleted_by_user": True}})
    )["deleteNote"]
    assert deleted == {
        "note": {"id": note_id, "content": None, "deleted_by_user": True},
        "messages": None,
    }
    assert (await patient.data(GET_MESSAGE, {"id": note_id}))["note"] is None
    assert (await patient.data(NOTES, {"cid": conversation_id}))["notesCount"] == 0
    convo = (await patient.data(CONVERSATION, {"id": conversation_id}))["conversation"]
    assert (convo["last_message_content"], convo["notes"]) == (None, [])
    again = (await provider.data(DELETE_NOTE, {"input": {"id": note_id}}))["deleteNote"]
    assert again["messages"] == [{"field": "id", "message": "Note not found"}]
    events = await events_after(database, before)
    assert [(e.event_type, e.resource_id) for e in events] == [("message.deleted", int(note_id))]


MINE = """query($id: ID) { conversation(id: $id) {
  updated_at current_user_conversation_membership { id viewed } } }"""
MARK_READ = """mutation($input: updateConversationMembershipInput) {
  updateConversationMembership(input: $input) { messages { field message } } }"""
REMOVE = """mutation($input: deleteConversationMembershipInput) {
  deleteConversationMembership(input: $input) { messages { field message } } }"""


async def test_reading_marks_read_and_a_removed_member_loses_the_messages(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    note_id = await sent(provider, conversation_id, "Lab results")
    written = (await provider.data(NOTE, {"id": note_id}))["note"]["created_at"]
    mine = (await patient.data(MINE, {"id": conversation_id}))["conversation"]
    assert mine["updated_at"] == written  # the message moved the conversation
    membership = mine["current_user_conversation_membership"]
    assert membership["viewed"] is False and await unread(patient) == 1

    # Opening the conversation in Healthie's apps marks it read: updateConversationMembership.
    marked = await patient.data(MARK_READ, {"input": {"id": membership["id"], "viewed": True}})
    assert marked["updateConversationMembership"]["messages"] is None
    assert await unread(patient) == 0
    seen = (await provider.data(NOTE, {"id": note_id, "viewer": str(world.a.patient_id)}))["note"]
    assert (seen["viewed"], seen["other"]) == (True, True)

    removed = await provider.data(
        REMOVE, {"input": {"conversation_id": conversation_id, "user_id": str(world.a.patient_id)}}
    )
    assert removed["deleteConversationMembership"]["messages"] is None
    assert (await patient.data(GET_MESSAGE, {"id": note_id}))["note"] is None
    assert await patient.data(NOTES, {"cid": conversation_id}) == {"notes": [], "notesCount": 0}
    refused = await send(patient, conversation_id, "still here?")
    assert refused["messages"] == [
        {"field": "conversation_id", "message": "Conversation not found"}
    ]
