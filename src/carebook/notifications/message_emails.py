"""Messages with their emails: a member is told by email that someone wrote to them.

The conversations domain writes the message; this flow adds the emails. An email says only
that there is a new message, with a link: never its text nor who wrote it (an inbox is not a
safe place for health information). It goes to the members the message made unread who had
read everything before it, so a burst of messages is one email until the member reads them;
their notification settings may turn it off (``send_message_emails``; the outbox applies
them). Members without an email address get none.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.conversations import notes
from carebook.conversations.note_inputs import NewNote
from carebook.conversations.note_models import Note
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_emails
from carebook.users.models import User


async def create_note(session: AsyncSession, *, actor: Actor, fields: NewNote) -> Note:
    """Healthie's createNote, and the "you have a new message" emails.

    Set-based: a message to a conversation of fifty is the same few statements as to one.
    """
    posted = await notes.create_note(session, actor=actor, fields=fields)
    if not posted.newly_unread:
        return posted.note
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
    return posted.note
