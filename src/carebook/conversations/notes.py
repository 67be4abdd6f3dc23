"""Writing chat messages (Healthie's createNote, updateNote, deleteNote).

A message is written by a member of a visible conversation: the caller, or (for providers and
staff) another provider or staff member of the conversation named by ``user_id``, as Healthie
lets an integration send in a provider's name. It moves the conversation's ``updated_at`` and
clears the other members' ``viewed`` flag. Only the caller's own writing marks the caller as
having read: a message sent in another's name leaves that person's flag as it was (they have
not seen what came before), and ``sent_by_id`` keeps who really sent it. A patient cannot write
in a closed conversation (Healthie: clients cannot reply after closing); staff may, but a
closed conversation makes nobody newly unread (no email). Only the writer may change or
delete it. Messages are patient data: each write is recorded
for the conversation's patients, and fires Healthie's ``message.*`` webhook events.

A message with a ``scheduled_at`` still to come is stored pending (no place in the
conversation, seen only by its writer: note_queries): nothing above happens until the scheduler
(accounts/note_schedule.py) releases it with :func:`release`, which does it then. Changing its
``scheduled_at`` moves it; a blank or past one sends it now; deleting it cancels it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.conversations import note_queries, queries
from carebook.conversations.content import MAX_CONTENT, sanitize
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.conversations.note_inputs import NewNote, NoteChanges
from carebook.conversations.note_models import Note
from carebook.db.base import utcnow
from carebook.errors import Invalid, NotFound
from carebook.events.emit import emit
from carebook.times import parse
from carebook.users import validation as v
from carebook.users.lookup import found
from carebook.users.models import User
from carebook.users.trail import record_ids

CONVERSATION_NOT_FOUND = "Conversation not found"
NOTE_NOT_FOUND = "Note not found"
MESSAGE_CREATED = "message.created"
MESSAGE_DELETED = "message.deleted"
CONVERSATION_CLOSED = "The conversation is closed: it takes no more replies"
ALREADY_SENT = "The message was already sent: it cannot be scheduled"


@dataclass(frozen=True, slots=True)
class Posted:
    """A new message, and the members it made unread who had read everything before it."""

    note: Note
    newly_unread: list[int]


def _content(value: str | None) -> str:
    """The sanitized HTML of ``content``; a message must say something."""
    content = sanitize(value or "")
    if not content:
        raise Invalid.field("content", "Content can't be blank")
    if len(content) > MAX_CONTENT:
        raise Invalid.field("content", f"Content is too long (at most {MAX_CONTENT} characters)")
    return content


def _due(value: str | None, now: datetime) -> datetime | None:
    """When a message is to be sent: None for now (blank, or a time already past, as a client
    slow to submit "in five minutes" expects it sent, not refused). Without an offset: UTC."""
    if value is None or not value.strip():
        return None
    try:
        parsed = parse(value)
    except ValueError as error:
        raise Invalid.field("scheduled_at", str(error)) from None
    due = (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    return due if due > now else None


async def _conversation(session: AsyncSession, actor: Actor, raw_id: str | None) -> Conversation:
    """The conversation, locked: a member removed meanwhile writes nothing after leaving (the
    message moves its ``updated_at``, so the row would be taken anyway, but after the check)."""
    return await found(
        raw_id,
        lambda cid: queries.get_visible_conversation(session, actor, cid, lock=True),
        field="conversation_id",
        missing=CONVERSATION_NOT_FOUND,
    )


async def _writer(
    session: AsyncSession, actor: Actor, conversation: Conversation, raw_id: str | None
) -> int:
    """Who the message is from: the caller, or a staff member of the conversation for staff."""
    writer_id = v.parse_id(raw_id, "user_id") or actor.user_id
    members = await note_queries.member_ids(session, conversation.id)
    if writer_id != actor.user_id:
        writer = await session.get(User, writer_id)
        allowed = actor.is_staff and writer is not None and not writer.is_patient
        if not allowed or writer is None or writer.organization_id != actor.organization_id:
            raise NotFound.field("user_id", "User not found")
    if writer_id not in members:
        raise Invalid.field("user_id", "Only a member of the conversation can write in it")
    return writer_id


async def _mark_unread(
    session: AsyncSession, conversation: Conversation, writer_id: int, sender_id: int
) -> list[int]:
    """Clear the members' ``viewed`` but the sender's (set) and the named writer's (kept).

    Returns who had read everything before (to be told of the message); nobody when the
    conversation is closed.
    """
    untouched = {writer_id, sender_id}
    before = await session.execute(
        select(ConversationMembership.user_id).where(
            ConversationMembership.conversation_id == conversation.id,
            ConversationMembership.user_id.not_in(untouched),
            ConversationMembership.viewed.is_(True),
            ConversationMembership.archived.is_(False),
        )
    )
    newly_unread = [] if conversation.closed_at is not None else sorted(before.scalars())
    await session.execute(
        update(ConversationMembership)
        .where(
            ConversationMembership.conversation_id == conversation.id,
            # the named writer's flag stays as it was, unless they sent it themselves
            ConversationMembership.user_id.not_in(untouched - {sender_id}),
        )
        .values(viewed=case((ConversationMembership.user_id == sender_id, True), else_=False))
        .execution_options(synchronize_session=False)
    )
    return newly_unread


async def _read_by_sender(session: AsyncSession, note: Note, sender_id: int) -> None:
    """The sender has read up to their own message (an answer follows reading)."""
    await session.execute(
        update(ConversationMembership)
        .where(
            ConversationMembership.conversation_id == note.conversation_id,
            ConversationMembership.user_id == sender_id,
        )
        .values(last_read_note_id=note.id)
        .execution_options(synchronize_session=False)
    )


def _open_for(actor: Actor, conversation: Conversation) -> None:
    """A patient cannot reply in a closed conversation (Healthie's rule after closing)."""
    if actor.is_patient and conversation.closed_at is not None:
        raise Invalid.field("conversation_id", CONVERSATION_CLOSED)


async def _record(session: AsyncSession, conversation_id: int) -> None:
    """A message is part of the record of each patient taking part."""
    await record_ids(
        session, await queries.patient_members(session, conversation_id), action="update"
    )


async def _send(session: AsyncSession, conversation: Conversation, note: Note) -> list[int]:
    """Give the message its place (the conversation's row is locked) and do what a new
    message does; who it made unread, to be told by email."""
    last = select(func.max(Note.position)).where(Note.conversation_id == conversation.id)
    note.position = ((await session.execute(last)).scalar() or 0) + 1
    await session.flush()
    conversation.updated_at = note.created_at  # the conversation changed when the message came
    writer_id = note.user_id or 0
    sender_id = note.sent_by_id or writer_id
    newly_unread = await _mark_unread(session, conversation, writer_id, sender_id)
    await _read_by_sender(session, note, sender_id)
    emit(
        session,
        organization_id=note.organization_id,
        event_type=MESSAGE_CREATED,
        resource_id=note.id,
    )
    return newly_unread


async def create_note(
    session: AsyncSession, *, actor: Actor, fields: NewNote, now: datetime | None = None
) -> Posted:
    """A message from the caller (or ``user_id``) in a conversation they take part in: sent
    now, or stored pending until its ``scheduled_at``."""
    conversation = await _conversation(session, actor, fields.conversation_id)
    _open_for(actor, conversation)
    due = _due(fields.scheduled_at, now or utcnow())
    content = _content(fields.content)
    writer_id = await _writer(session, actor, conversation, fields.user_id)
    note = Note(
        organization_id=conversation.organization_id,
        conversation_id=conversation.id,
        user_id=writer_id,
        sent_by_id=actor.user_id,
        content=content,
        scheduled_at=due,
    )
    session.add(note)
    await session.flush()
    newly_unread = [] if due is not None else await _send(session, conversation, note)
    await _record(session, conversation.id)
    return Posted(note, newly_unread)


async def release(
    session: AsyncSession, note_id: int, now: datetime, *, sent_at: datetime | None = None
) -> Posted | None:
    """Send a pending message that is due at ``now``, stamped ``sent_at`` (default ``now``);
    None when there is none to send (sent or cancelled meanwhile, or not due). Its writer must
    still be a member who may write there, else it is cancelled (it would speak for someone
    who left)."""
    note = await session.get(Note, note_id, populate_existing=True)
    if note is None:
        return None
    conversation = await session.get(
        Conversation, note.conversation_id, with_for_update=True, populate_existing=True
    )
    # Read again under the conversation's lock (every send and every change of a pending
    # message takes it first): a scheduler racing on it finds it sent, and sends nothing.
    await session.refresh(note)
    if note.position is not None or note.deleted:
        return None
    if note.scheduled_at is None or note.scheduled_at > now:
        return None
    if conversation is None or not await _may_still_write(session, conversation, note):
        _erase(note, deleted_by_user=False)
        await session.flush()
        return None
    note.created_at = sent_at or now  # its time in the conversation is its release
    newly_unread = await _send(session, conversation, note)
    await _record(session, conversation.id)
    return Posted(note, newly_unread)


async def _may_still_write(session: AsyncSession, conversation: Conversation, note: Note) -> bool:
    if note.user_id is None or not await note_queries.still_member(
        session, conversation.id, note.user_id
    ):
        return False
    writer = await session.get(User, note.user_id)
    closed_to_writer = writer is not None and writer.is_patient and conversation.closed_at
    return writer is not None and writer.active and not closed_to_writer


async def _own_note(session: AsyncSession, actor: Actor, raw_id: str | None) -> Note:
    """A visible message the caller wrote (another's answers as not found)."""
    note = await found(
        raw_id,
        lambda nid: note_queries.get_visible_note(session, actor, nid),
        field="id",
        missing=NOTE_NOT_FOUND,
    )
    if note.user_id != actor.user_id:
        raise Invalid.field("id", "Only the writer of a message can change or delete it")
    return note


def _same(raw: str | None, current: int | None, field: str) -> None:
    """``conversation_id`` / ``user_id`` of updateNote may repeat the message's, not move it."""
    wanted = v.parse_id(raw, field)
    if wanted is not None and wanted != current:
        raise Invalid.field(field, "A message cannot move to another conversation or writer")


async def update_note(
    session: AsyncSession, *, actor: Actor, fields: NoteChanges, now: datetime | None = None
) -> Posted:
    """A new text for one of the caller's messages (fields left out keep their value); for one
    still waiting, a new ``scheduled_at`` (blank or past: sent now)."""
    note = await _own_note(session, actor, fields.id)
    _same(fields.conversation_id, note.conversation_id, "conversation_id")
    _same(fields.user_id, note.user_id, "user_id")
    content = _content(fields.content) if fields.content is not None else None
    moment = now or utcnow()
    newly_unread: list[int] = []
    conversation = await _settled(session, actor, note)
    if fields.scheduled_at is not None and note.position is None:
        due = _due(fields.scheduled_at, moment)
        if due is None:
            conversation = conversation or await _conversation(
                session, actor, str(note.conversation_id)
            )
            _open_for(actor, conversation)
            if not await _may_still_write(session, conversation, note):
                # The scheduler's rule: a writer who left (or was deactivated) sends nothing.
                raise Invalid.field("id", "Only a member of the conversation can write in it")
            note.created_at = moment
            note.scheduled_at = None  # sent now: no time to come is left to show
            newly_unread = await _send(session, conversation, note)
        else:
            note.scheduled_at = due
    elif fields.scheduled_at is not None and fields.scheduled_at.strip():
        raise Invalid.field("scheduled_at", ALREADY_SENT)
    if content is not None:
        note.content = content
    await session.flush()
    await _record(session, note.conversation_id)
    return Posted(note, newly_unread)


async def _settled(session: AsyncSession, actor: Actor, note: Note) -> Conversation | None:
    """For a message read as pending: its conversation, locked, and the message read again
    under that lock (the scheduler may have sent it meanwhile). None for a sent message."""
    if note.position is not None:
        return None
    conversation = await _conversation(session, actor, str(note.conversation_id))
    await session.refresh(note)
    if note.deleted:  # cancelled meanwhile (by the scheduler): gone, like any deleted one
        raise NotFound.field("id", NOTE_NOT_FOUND)
    return conversation


def _erase(note: Note, *, deleted_by_user: bool) -> None:
    note.deleted = True
    note.deleted_by_user = deleted_by_user
    note.content = None


async def delete_note(
    session: AsyncSession, *, actor: Actor, note_id: str | None, deleted_by_user: bool
) -> Note:
    """Delete one of the caller's messages: its text is erased, its id answers as gone. A
    pending one is cancelled: never sent, and no event (nobody else ever saw it)."""
    note = await _own_note(session, actor, note_id)
    await _settled(session, actor, note)
    pending = note.position is None
    _erase(note, deleted_by_user=deleted_by_user)
    await session.flush()
    if pending:
        await _record(session, note.conversation_id)
        return note
    emit(
        session,
        organization_id=note.organization_id,
        event_type=MESSAGE_DELETED,
        resource_id=note.id,
    )
    await _record(session, note.conversation_id)
    return note
