"""The scheduler of recurring form requests, inside every ``carebook serve``.

Each pass takes the lease (one row of ``scheduler_leases``, taken by a conditional UPDATE), so
one server at a time scans; then creates each due occurrence in its own transaction: a row of
``recurring_form_runs`` (unique per recurring form and occurrence time), the requests of the
patients named at that moment, their reminder emails in the outbox, their events, and the next
occurrence. A server killed mid-occurrence leaves nothing (its transaction never committed), and
whoever takes the lease after it creates the occurrence; a second server racing on the same
occurrence (a lease that ran out while a pass was slow) fails on the unique key and creates
nothing. Occurrences missed while every server was down are created on the next pass, each
once. Time is read from the ``now`` a pass is given (tests pass their own clock).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.trail import open_trail, system_origin
from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.forms import queries, service
from carebook.forms.models import RecurringForm, RecurringFormRun, SchedulerLease
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_email
from carebook.users.models import User

logger = logging.getLogger("carebook.forms")

LEASE = "recurring_forms"
BATCH = 50  # occurrences per pass; the rest on the next one
Pause = Callable[[], Awaitable[None]]


def holder_name() -> str:
    """This scheduler's name in the lease: host, process and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def take_lease(database: Database, holder: str, now: datetime, seconds: float) -> bool:
    """Whether ``holder`` holds the lease until ``now + seconds`` (taken, or renewed)."""
    until = now + timedelta(seconds=seconds)
    async with database.write_sessions() as session, session.begin():
        taken = await session.execute(
            update(SchedulerLease)
            .where(
                SchedulerLease.name == LEASE,
                or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
            )
            .values(holder=holder, expires_at=until)
        )
        if getattr(taken, "rowcount", 0) == 1:
            return True
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(SchedulerLease).values(name=LEASE, holder=holder, expires_at=until)
                )
        except IntegrityError:  # another server holds it
            return False
    return True


async def run_due(
    database: Database,
    settings: Settings,
    *,
    holder: str,
    now: datetime | None = None,
    pause: Pause | None = None,
) -> int:
    """One pass: the due occurrences, if this holder gets the lease; how many were created.

    ``pause`` runs inside each occurrence's transaction before it commits (tests kill a server
    there).
    """
    moment = now or utcnow()
    if not await take_lease(database, holder, moment, settings.form_schedule_lease_seconds):
        return 0
    async with database.read_sessions() as session:
        due = await queries.due_recurring_ids(session, moment, BATCH)
    created = 0
    for form_id in due:
        # A form far behind (servers down for days) catches up one occurrence at a time.
        while await run_occurrence(database, form_id, moment, pause=pause):
            created += 1
    return created


async def run_occurrence(
    database: Database, form_id: int, now: datetime, *, pause: Pause | None = None
) -> bool:
    """Create the form's next occurrence if it is due at ``now``; False when none is (or
    another scheduler created it)."""
    try:
        async with database.write_sessions() as session, session.begin():
            open_trail(session, system_origin(), "recurringFormSchedule")
            form = await session.get(RecurringForm, form_id, populate_existing=True)
            if form is None or not form.is_active or form.next_run_at is None:
                return False
            if form.next_run_at > now:
                return False
            due = form.next_run_at
            # The claim: a second scheduler on this occurrence fails here, or on the swap below.
            session.add(RecurringFormRun(recurring_form_id=form.id, due_at=due))
            await session.flush()
            # Compare and set: only the scheduler that read this due time moves it on.
            swapped = await session.execute(
                update(RecurringForm)
                .where(RecurringForm.id == form.id, RecurringForm.next_run_at == due)
                .values(next_run_at=service.next_occurrence(form, due))
                .execution_options(synchronize_session=False)
            )
            if getattr(swapped, "rowcount", 0) != 1:
                raise IntegrityError("next_run_at moved", None, Exception("raced"))
            await _ask(session, form)
            if pause is not None:
                await pause()
    except IntegrityError:
        logger.info("recurring form %s: occurrence already created elsewhere", form_id)
        return False
    return True


async def _ask(session: AsyncSession, form: RecurringForm) -> None:
    """The occurrence's requests, as the form's sender, and each patient's reminder email."""
    sender = Actor(user_id=form.user_id, organization_id=form.organization_id, role=Role.STAFF)
    recipients = (await queries.recipients_of(session, [form.id]))[form.id]
    users = [r.user_id for r in recipients if r.user_id is not None]
    groups = [r.user_group_id for r in recipients if r.user_group_id is not None]
    # Patients archived or moved since are left out (seen as the sender sees them now).
    visible = await service.visible_active_patients(session, sender, users)
    ids = await service.patients_of(session, sender, visible, groups)
    rows = await service.add_requests(
        session,
        organization_id=form.organization_id,
        sender_id=form.user_id,
        patient_ids=ids,
        form_id=form.form_id,
        item_type=form.item_type,
        metadata=form.request_metadata,
        recurring_form_id=form.id,
    )
    if form.skip_notification_email:
        return
    for row in rows:
        patient = await session.get(User, row.recipient_id)
        if patient is None or not patient.email:
            continue
        await queue_email(
            session,
            organization_id=row.organization_id,
            recipient_user_id=row.recipient_id,
            kind=EmailKind.FORM_REQUEST_REMINDER,
            params={"requested_form_completion_id": row.id},
        )


async def run_scheduler(database: Database, settings: Settings) -> None:
    """Passes forever; a failed one is logged and tried again at the next interval."""
    holder = holder_name()
    while True:
        try:
            await run_due(database, settings, holder=holder)
        except Exception:  # a database hiccup must not end the loop
            logger.exception("recurring form schedule pass failed")
        await asyncio.sleep(settings.form_schedule_seconds)


def start_form_scheduler(database: Database, settings: Settings) -> asyncio.Task[None] | None:
    """The scheduler as a task of this process (none when the interval is 0)."""
    if settings.form_schedule_seconds <= 0:
        return None
    return asyncio.create_task(run_scheduler(database, settings), name="carebook-form-schedule")
