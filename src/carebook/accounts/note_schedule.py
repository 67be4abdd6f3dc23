"""The scheduler of scheduled chat messages, inside every ``carebook serve``.

As the recurring form requests' one (form_schedule.py): each pass takes its lease (its own row
of ``scheduler_leases``), so one server at a time scans; then releases each due message in its
own transaction (conversations/notes.release: its place in the conversation, the other members'
unread state, ``message.created``, the new-message emails through the outbox). A message is
released once: the release reads it again under its conversation's lock and does nothing when
it is no longer pending, so a second server racing on it (a lease that ran out while a pass was
slow) sends nothing; a server killed mid-release leaves it pending (its transaction never
committed) for whoever takes the lease next. Time is the ``now`` a pass is given (tests pass
their own clock).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select

from carebook.accounts.form_schedule import Pause, start_periodic, take_lease
from carebook.audit.trail import open_trail, system_origin
from carebook.config import Settings
from carebook.conversations.note_models import Note
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.notifications import message_emails

logger = logging.getLogger("carebook.conversations")

LEASE = "scheduled_notes"
BATCH = 100  # messages per pass; the rest on the next one


async def due_ids(database: Database, now: datetime, limit: int) -> list[int]:
    """The pending messages due at ``now``, oldest due first."""
    async with database.read_sessions() as session:
        rows = await session.execute(
            select(Note.id)
            .where(
                Note.position.is_(None),
                Note.deleted.is_(False),
                Note.scheduled_at <= now,
            )
            .order_by(Note.scheduled_at, Note.id)
            .limit(limit)
        )
        return list(rows.scalars())


async def run_due(
    database: Database,
    settings: Settings,
    *,
    holder: str,
    now: datetime | None = None,
    pause: Pause | None = None,
) -> int:
    """One pass: the due messages, if this holder gets the lease; how many it sent.

    ``pause`` runs inside each release's transaction before it commits (tests kill a server
    there). A message whose release fails is logged (no content) and tried on the next pass.
    """
    moment = now or utcnow()
    seconds = settings.form_schedule_lease_seconds
    if not await take_lease(database, holder, moment, seconds, name=LEASE):
        return 0
    sent = 0
    for index, note_id in enumerate(await due_ids(database, moment, BATCH)):
        # The lease is renewed between messages; lost (a slow pass), the pass stops.
        if index and not await take_lease(database, holder, now or utcnow(), seconds, name=LEASE):
            break
        try:
            # Due at the pass's moment; stamped when really sent (a long pass keeps order).
            sent_at = now or utcnow()
            sent += int(await release_one(database, note_id, moment, pause=pause, sent_at=sent_at))
        except Exception:  # one broken message must not hold back the others
            logger.exception("scheduled message %s: release failed, tried again later", note_id)
    return sent


async def release_one(
    database: Database,
    note_id: int,
    now: datetime,
    *,
    pause: Pause | None = None,
    sent_at: datetime | None = None,
) -> bool:
    """Send the message if it is still pending and due at ``now``, in one transaction."""
    async with database.write_sessions() as session, session.begin():
        open_trail(session, system_origin(), "scheduledMessage")
        released = await message_emails.release(session, note_id, now, sent_at=sent_at)
        if released and pause is not None:
            await pause()
        return released


def start_note_scheduler(database: Database, settings: Settings) -> asyncio.Task[None] | None:
    """The scheduled-message scheduler as a task of this process (none when the interval is 0)."""
    return start_periodic(
        lambda holder: run_due(database, settings, holder=holder),
        settings.note_schedule_seconds,
        name="carebook-note-schedule",
        failure="scheduled message pass failed",
    )
