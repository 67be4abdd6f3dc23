"""Messages with their emails: a member is told by email that someone wrote to them.

The conversations domain writes the message; this flow adds the emails. An email says only
that there is a new message, with a link: never its text nor who wrote it (an inbox is not a
safe place for health information). It goes to the members the message made unread who had
read everything before it, so a burst of messages is one email until the member reads them;
their notification settings may turn it off (``send_message_emails``; the outbox applies
them). Members without an email address get none.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.conversations import notes
from carebook.conversations.note_inputs import NewNote
from carebook.conversations.note_models import Note
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_email
from carebook.users.models import User


async def create_note(session: AsyncSession, *, actor: Actor, fields: NewNote) -> Note:
    """Healthie's createNote, and the "you have a new message" emails."""
    posted = await notes.create_note(session, actor=actor, fields=fields)
    for user_id in posted.newly_unread:
        member = await session.get(User, user_id)
        if member is None or not member.email or not member.active:
            continue
        await queue_email(
            session,
            organization_id=posted.note.organization_id,
            recipient_user_id=user_id,
            kind=EmailKind.NEW_MESSAGE,
            params={"conversation_id": posted.note.conversation_id},
        )
    return posted.note
