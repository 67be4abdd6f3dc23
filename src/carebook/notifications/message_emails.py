"""Messages with their emails: a member is told by email that someone wrote to them.

The conversations domain writes the message; this flow adds the emails. An email says only
that there is a new message, with a link: never its text nor who wrote it (an inbox is not a
safe place for health information). It goes to the members the message made unread who had
read everything before it, so a burst of messages is one email until the member reads them;
their notification settings may turn it off (``send_message_emails``; the outbox applies
them). Members without an email address get none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.conversations import notes
from carebook.conversations.note_inputs import NewNote, NoteChanges
from carebook.conversations.note_models import Note
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_emails
from carebook.users.models import User


async def create_note(session: AsyncSession, *, actor: Actor, fields: NewNote) -> Note:
    """Healthie's createNote, and the "you have a new message" emails (none while it waits).

    Set-based: a message to a conversation of fifty is the same few statements as to one.
    """
    posted = await notes.create_note(session, actor=actor, fields=fields)
    await _tell(session, posted)
    return posted.note


async def update_note(session: AsyncSession, *, actor: Actor, fields: NoteChanges) -> Note:
    """Healthie's updateNote, and the emails when it sends a scheduled message now."""
    posted = await notes.update_note(session, actor=actor, fields=fields)
    await _tell(session, posted)
    return posted.note


async def release(
    session: AsyncSession, note_id: int, now: datetime, *, sent_at: datetime | None = None
) -> bool:
    """Send a due scheduled message with its emails; whether it was sent by this call."""
    posted = await notes.release(session, note_id, now, sent_at=sent_at)
    if posted is None:
        return False
    await _tell(session, posted)
    return True


async def _tell(session: AsyncSession, posted: notes.Posted) -> None:
    if not posted.newly_unread:
        return
    reachable = await session.execute(
        select(User.id).where(
            User.id.in_(posted.newly_unread),
            User.active.is_(True),
            User.email.is_not(None),
            User.email != "",
        )
    )
    await queue_emails(
        session,
        organization_id=posted.note.organization_id,
        recipient_user_ids=sorted(reachable.scalars()),
        kind=EmailKind.NEW_MESSAGE,
        params={"conversation_id": posted.note.conversation_id},
    )
