"""Documents of the message tests, in the image of the reference integration's (Awell's
SendChatMessage and GetMessage): the same operations, variables and selections."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from carebook.db.engine import Database
from carebook.users.credentials import issue_session_token
from carebook.users.models import User
from tests.support.api import Api

CREATE_CONVERSATION = """mutation createConversation($simple_added_users: String, $name: String) {
  createConversation(input: {simple_added_users: $simple_added_users, name: $name}) {
    conversation { id } messages { field message } } }"""
SEND_CHAT_MESSAGE = """mutation sendChatMessage($input: createNoteInput!) {
  createNote(input: $input) {
    messages { field message }
    note { id user_id recipient_id }
  }
}"""
GET_MESSAGE = """query getMessage($id: ID) {
  note(id: $id) { id conversation_id }
}"""
NOTE = """query($id: ID, $viewer: ID) { note(id: $id) {
  id content conversation_id user_id created_at updated_at deleted_by_user is_autoresponse
  scheduled_at creator { id } viewed other: viewed(viewer_id: $viewer) } }"""
NOTES = """query($cid: ID, $keywords: String, $since: ID, $order: NoteOrderKeys, $offset: Int,
  $size: Int, $after: Cursor) {
  notes(conversation_id: $cid, keywords: $keywords, since_note_id: $since, order_by: $order,
    offset: $offset, page_size: $size, after: $after) { id content cursor }
  notesCount(conversation_id: $cid, keywords: $keywords) }"""
CONVERSATION = """query($id: ID) { conversation(id: $id) {
  id last_message_content notes { id user_id } } }"""
UNREAD = "{ currentUser { id unread_convo_count } }"
UPDATE_NOTE = """mutation($input: updateNoteInput) { updateNote(input: $input) {
  note { id content updated_at } messages { field message } } }"""
DELETE_NOTE = """mutation($input: deleteNoteInput) { deleteNote(input: $input) {
  note { id content deleted_by_user } messages { field message } } }"""


async def conversation_with(caller: Api, members: str, name: str = "Care") -> str:
    """A new conversation of the caller with ``members`` (Healthie's "user-1,user-2")."""
    payload = (
        await caller.data(CREATE_CONVERSATION, {"simple_added_users": members, "name": name})
    )["createConversation"]
    assert payload["messages"] is None, payload
    conversation_id: str = payload["conversation"]["id"]
    return conversation_id


async def send(caller: Api, conversation_id: str, content: str, **more: Any) -> dict[str, Any]:
    """createNote's payload, sent as the reference integration sends it."""
    variables = {"input": {"conversation_id": conversation_id, "content": content, **more}}
    payload: dict[str, Any] = (await caller.data(SEND_CHAT_MESSAGE, variables))["createNote"]
    return payload


async def sent(caller: Api, conversation_id: str, content: str, **more: Any) -> str:
    """The id of a message that must be written."""
    payload = await send(caller, conversation_id, content, **more)
    assert payload["messages"] is None, payload
    note_id: str = payload["note"]["id"]
    return note_id


async def unread(caller: Api) -> int:
    """The caller's unread_convo_count."""
    count: int = (await caller.data(UNREAD))["currentUser"]["unread_convo_count"]
    return count


async def session_of(database: Database, user_id: int) -> str:
    """A session token of ``user_id`` (a patient without a password signs in no other way)."""
    async with database.write_sessions() as session, session.begin():
        user = await session.get(User, user_id)
        assert user is not None
        return await issue_session_token(session, user=user, ttl=timedelta(hours=1))
