"""Reads of messages (Notes), scoped to the caller through their conversation.

A message is visible exactly when its conversation is (conversations/queries.py decides that,
``visible_where``: a patient sees the conversations they take part in, so a member who is
removed loses its messages too) and it is not deleted. A scheduled message still waiting
(``position`` null) is visible only to its sender and its named writer: to everyone else it does
not exist yet (not in ``note``, ``notes``, a conversation's ``notes``, its newest message or
read receipts), staff included.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from carebook.auth.actor import Actor
from carebook.conversations import queries
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.conversations.note_inputs import NoteFilter, NoteOrder
from carebook.conversations.note_models import Note
from carebook.users.models import User

MAX_KEYWORDS = 10


SENT = Note.position.is_not(None)


def _sent_or_own(actor: Actor) -> ColumnElement[bool]:
    """Sent messages, and the caller's own still waiting to be sent (the one place that says
    who sees a pending message)."""
    return or_(SENT, Note.sent_by_id == actor.user_id, Note.user_id == actor.user_id)


def _visible(actor: Actor) -> Select[Note]:
    return (
        select(Note)
        .join(Conversation, Conversation.id == Note.conversation_id)
        .where(queries.visible_where(actor), Note.deleted.is_(False), _sent_or_own(actor))
    )


async def get_visible_note(session: AsyncSession, actor: Actor, note_id: int) -> Note | None:
    """One message the caller may read; None when missing, deleted or hidden alike."""
    query = _visible(actor).where(Note.id == note_id)
    return (await session.execute(query)).scalar_one_or_none()


def _filtered(actor: Actor, wanted: NoteFilter) -> Select[Note]:
    query = _visible(actor)
    if wanted.conversation_id is not None:
        query = query.where(Note.conversation_id == wanted.conversation_id)
    if wanted.ids is not None:
        query = query.where(Note.id.in_(wanted.ids))
    if wanted.scheduled:
        query = query.where(Note.position.is_(None))
    if wanted.since_note_id is not None:
        # Later by id, or sent after it in its conversation (a scheduled message released
        # after it keeps an older id): a poller misses nothing, at worst sees a message twice.
        # Places are compared within one conversation only: another's are a different count.
        since = aliased(Note)
        later = exists().where(
            since.id == wanted.since_note_id,
            since.conversation_id == Note.conversation_id,
            Note.position > since.position,
        )
        query = query.where(or_(Note.id > wanted.since_note_id, later))
    for term in (wanted.keywords or "").split()[:MAX_KEYWORDS]:
        # The sanitized HTML is searched: a term inside a tag name could match (docs/api.md).
        query = query.where(func.lower(Note.content).contains(term.casefold(), autoescape=True))
    return query


async def list_notes(
    session: AsyncSession, actor: Actor, wanted: NoteFilter, *, offset: int, limit: int | None
) -> list[Note]:
    """A page of the caller's visible messages, newest first unless asked otherwise."""
    if wanted.nothing:
        return []
    query = _filtered(actor, wanted)
    if wanted.order is NoteOrder.CREATED_AT_ASC:
        query = query.order_by(Note.created_at, Note.id)
    else:
        query = query.order_by(Note.created_at.desc(), Note.id.desc())
    query = query.offset(offset).limit(limit)
    return list((await session.execute(query)).scalars())


async def count_notes(session: AsyncSession, actor: Actor, wanted: NoteFilter) -> int:
    """How many messages ``list_notes`` has for the filter, over every page."""
    if wanted.nothing:
        return 0
    query = select(func.count()).select_from(_filtered(actor, wanted).subquery())
    return int((await session.execute(query)).scalar_one())


async def load_conversation_notes(
    session: AsyncSession, ids: Sequence[int], *, per_key: int
) -> list[list[Note]]:
    """Each conversation's first ``per_key`` messages, oldest first, in key order.

    The limit is applied in SQL (ROW_NUMBER per conversation), as for a user's tags: the
    nested list refuses past its cap, so one row past it is all it needs.
    """
    order = (Note.position,)
    rank = func.row_number().over(partition_by=Note.conversation_id, order_by=order)
    window = (
        select(Note.id, rank.label("rank"))
        .where(Note.conversation_id.in_(ids), Note.deleted.is_(False), SENT)
        .subquery()
    )
    rows = await session.execute(
        select(Note)
        .join(window, window.c.id == Note.id)
        .where(window.c.rank <= per_key)
        .order_by(*order)
    )
    by_conversation: dict[int, list[Note]] = defaultdict(list)
    for note in rows.scalars():
        by_conversation[note.conversation_id].append(note)
    return [by_conversation.get(i, []) for i in ids]


def last_notes_query(ids: Sequence[int]) -> Select[Note]:
    """The newest sent message of each conversation of ``ids`` (deleted ones passed over).

    One newest per conversation, each read backwards from the end of its range of
    ``ux_notes_conversation_id_position`` (a correlated ``ORDER BY position DESC LIMIT 1``), so
    a long history costs nothing; a ``max ... GROUP BY`` read every message of each one.
    """
    inner = aliased(Note)
    newest = (
        select(inner.id)
        .where(
            inner.conversation_id == Conversation.id,
            inner.deleted.is_(False),
            inner.position.is_not(None),
        )
        .order_by(inner.position.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    return select(Note).where(Note.id.in_(select(newest).where(Conversation.id.in_(ids))))


async def load_last_notes(session: AsyncSession, ids: Sequence[int]) -> list[Note | None]:
    """Each conversation's newest message, in key order."""
    rows = await session.execute(last_notes_query(ids))
    by_conversation = {note.conversation_id: note for note in rows.scalars()}
    return [by_conversation.get(i) for i in ids]


async def load_unread_counts(session: AsyncSession, user_ids: Sequence[int]) -> list[int]:
    """How many of each user's conversations hold a message they have not read, in key order.

    Read receipts are the members' ``viewed`` flags: a new message clears the other members'
    flags, reading sets one's own. Archived memberships, closed conversations and
    conversations of another organization than the user's (a hand-made row) do not count.
    """
    rows = await session.execute(
        select(ConversationMembership.user_id, func.count())
        .join(Conversation, Conversation.id == ConversationMembership.conversation_id)
        .join(User, User.id == ConversationMembership.user_id)
        .where(
            ConversationMembership.user_id.in_(user_ids),
            ConversationMembership.viewed.is_(False),
            ConversationMembership.archived.is_(False),
            Conversation.closed_at.is_(None),  # a closed conversation waits on nobody
            Conversation.organization_id == User.organization_id,
        )
        .group_by(ConversationMembership.user_id)
    )
    by_user: dict[int, int] = {user_id: count for user_id, count in rows}
    return [by_user.get(user_id, 0) for user_id in user_ids]


@dataclass(frozen=True, slots=True)
class Receipts:
    """What a message's ``viewed`` needs: each member's newest read message (None: none)."""

    # member id -> the place (``position``) of the newest message they have read
    last_read: dict[int, int | None]


async def load_receipts(session: AsyncSession, ids: Sequence[int]) -> list[Receipts]:
    """The read receipts of each conversation, in key order (one row per member)."""
    read = aliased(Note)
    members = await session.execute(
        select(
            ConversationMembership.conversation_id, ConversationMembership.user_id, read.position
        )
        .outerjoin(read, read.id == ConversationMembership.last_read_note_id)
        .where(ConversationMembership.conversation_id.in_(ids))
    )
    receipts = {i: Receipts({}) for i in ids}
    for conversation_id, user_id, last_read in members:
        receipts[conversation_id].last_read[user_id] = last_read
    return [receipts[i] for i in ids]


async def newest_note_id(session: AsyncSession, conversation_id: int) -> int | None:
    """The id of a conversation's newest sent message (deleted ones too: reading passed them;
    pending ones not: nobody has read what was not sent)."""
    query = (
        select(Note.id)
        .where(Note.conversation_id == conversation_id, SENT)
        .order_by(Note.position.desc())
        .limit(1)
    )
    newest: int | None = (await session.execute(query)).scalar()
    return newest


def viewed_by(note: Note, receipts: Receipts, viewer_id: int | None) -> bool:
    """Whether ``viewer_id`` (default: every member but the writer) has read ``note``.

    A member has read it when they wrote it or have read up to it (marked the conversation
    read, or sent a message themselves, after it came): a receipt never goes back to unread.
    """
    if viewer_id is None:
        readers = [uid for uid in receipts.last_read if uid != note.user_id]
        return bool(readers) and all(_has_read(note, receipts, uid) for uid in readers)
    if viewer_id not in receipts.last_read:
        return False
    return _has_read(note, receipts, viewer_id)


def _has_read(note: Note, receipts: Receipts, user_id: int) -> bool:
    if user_id == note.user_id:
        return True
    if note.position is None:  # not sent yet: nobody else has read it
        return False
    return (receipts.last_read.get(user_id) or 0) >= note.position


async def member_ids(session: AsyncSession, conversation_id: int) -> list[int]:
    """The ids of a conversation's members, in order."""
    rows = await session.execute(
        select(ConversationMembership.user_id)
        .where(ConversationMembership.conversation_id == conversation_id)
        .order_by(ConversationMembership.user_id)
    )
    return list(rows.scalars())


async def still_member(session: AsyncSession, conversation_id: int, user_id: int) -> bool:
    """Whether ``user_id`` takes part in the conversation (still)."""
    query = select(ConversationMembership.user_id).where(
        ConversationMembership.conversation_id == conversation_id,
        ConversationMembership.user_id == user_id,
    )
    return (await session.execute(query)).first() is not None
