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

from sqlalchemy import insert, or_, select, update
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
BATCH = 50  # forms, so occurrences, per pass; the rest on the next one
RETRY_FIRST = timedelta(minutes=5)  # after a failed occurrence; doubled at each failure
RETRY_MOST = timedelta(days=1)
Pause = Callable[[], Awaitable[None]]


def holder_name() -> str:
    """This scheduler's name in the lease: host, process and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def take_lease(
    database: Database, holder: str, now: datetime, seconds: float, *, name: str = LEASE
) -> bool:
    """Whether ``holder`` holds the lease ``name`` until ``now + seconds`` (taken, or renewed;
    the scheduled messages' scheduler has its own)."""
    until = now + timedelta(seconds=seconds)
    async with database.write_sessions() as session, session.begin():
        taken = await session.execute(
            update(SchedulerLease)
            .where(
                SchedulerLease.name == name,
                or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
            )
            .values(holder=holder, expires_at=until)
        )
        if getattr(taken, "rowcount", 0) == 1:
            return True
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(SchedulerLease).values(name=name, holder=holder, expires_at=until)
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
    between: Pause | None = None,
) -> int:
    """One pass: the due occurrences, if this holder gets the lease; how many were created.

    Each due form gets at most one occurrence a pass (catching up creates only the latest), so
    a pass does at most ``BATCH`` occurrences. A form whose occurrence fails is not tried again
    in this pass, and the next due ones are taken instead: a broken form never starves the
    others. ``pause`` runs inside each occurrence's transaction before it commits (tests kill
    a server there); ``between`` after each one (tests stand for a slow pass there).
    """
    moment = now or utcnow()
    seconds = settings.form_schedule_lease_seconds
    if not await take_lease(database, holder, moment, seconds):
        return 0
    tried: set[int] = set()
    created = 0
    while len(tried) < BATCH:
        async with database.read_sessions() as session:
            due = await queries.due_recurring_ids(session, moment, BATCH - len(tried), tried)
        if not due:
            break
        for form_id in due:
            # The lease is renewed between occurrences; lost (a slow pass), the pass stops.
            if tried and not await take_lease(database, holder, now or utcnow(), seconds):
                return created
            tried.add(form_id)
            created += await _attempt(database, form_id, moment, pause)
            if between is not None:
                await between()
    return created


async def _attempt(database: Database, form_id: int, now: datetime, pause: Pause | None) -> int:
    """1 if the form's occurrence was created; a failure is logged, and the pass goes on."""
    try:
        return int(await run_occurrence(database, form_id, now, pause=pause))
    except Exception:  # one broken form must not stop the others' occurrences
        logger.exception("recurring form %s: occurrence failed, tried again later", form_id)
    try:
        await _back_off(database, form_id, now)
    except Exception:  # the database itself failing: the next pass tries again
        logger.exception("recurring form %s: its retry could not be recorded", form_id)
    return 0


def retry_delay(failed_attempts: int) -> timedelta:
    """How long a form is left alone after its ``failed_attempts``-th failure in a row."""
    doublings: int = min(max(failed_attempts - 1, 0), 16)
    return min(RETRY_FIRST * (1 << doublings), RETRY_MOST)


async def _back_off(database: Database, form_id: int, now: datetime) -> None:
    """After a failed occurrence: leave the form until its retry time, further each time."""
    async with database.write_sessions() as session, session.begin():
        form = await session.get(RecurringForm, form_id, populate_existing=True)
        if form is None:
            return
        form.failed_attempts += 1
        form.retry_at = now + retry_delay(form.failed_attempts)


class _Raced(Exception):
    """Another scheduler moved this form on first: this transaction creates nothing."""


def is_run_taken(error: IntegrityError) -> bool:
    """Whether ``error`` is the unique key of ``recurring_form_runs`` (an occurrence already
    created), not some other constraint, which must not pass as a race."""
    text = str(error.orig).lower()
    return "unique" in text and "recurring_form_runs" in text


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
            return await _occur(session, form, form.next_run_at, now, pause)
    except _Raced:
        logger.info("recurring form %s: occurrence already created elsewhere", form_id)
    except IntegrityError as error:
        if not is_run_taken(error):
            raise
        logger.info("recurring form %s: occurrence already created elsewhere", form_id)
    return False


def _missed(form: RecurringForm, due: datetime, now: datetime) -> tuple[list[datetime], datetime]:
    """The occurrences due at ``now`` from ``due`` on: the older ones, and the latest."""
    older: list[datetime] = []
    latest = due
    while (following := service.next_occurrence(form, latest)) is not None and following <= now:
        older.append(latest)
        latest = following
    return older, latest


async def _occur(
    session: AsyncSession, form: RecurringForm, due: datetime, now: datetime, pause: Pause | None
) -> bool:
    """The occurrence, in the open transaction; False when it already existed (moved on)."""
    older, latest = _missed(form, due, now)
    taken = await session.scalar(
        select(RecurringFormRun.id).where(
            RecurringFormRun.recurring_form_id == form.id, RecurringFormRun.due_at == latest
        )
    )
    # Compare and set: only the scheduler that read this due time moves it on; a second one
    # on this occurrence fails here, or on the run's unique key below.
    swapped = await session.execute(
        update(RecurringForm)
        .where(RecurringForm.id == form.id, RecurringForm.next_run_at == due)
        .values(next_run_at=service.next_occurrence(form, latest), retry_at=None, failed_attempts=0)
        .execution_options(synchronize_session=False)
    )
    if getattr(swapped, "rowcount", 0) != 1:
        raise _Raced
    if taken is not None:
        # Already created (next_run_at was set back onto it): moved past, nothing sent again.
        return False
    # Missed while every server was down: recorded as skipped, only the latest is sent, so a
    # patient is not flooded with one request per missed day.
    session.add_all(
        RecurringFormRun(recurring_form_id=form.id, due_at=at, skipped=True) for at in older
    )
    session.add(RecurringFormRun(recurring_form_id=form.id, due_at=latest))
    await session.flush()
    asked = await _ask(session, form)
    if pause is not None:
        await pause()
    return asked


async def _active_sender(session: AsyncSession, form: RecurringForm) -> Actor | None:
    """The form's sender as they are now: None once they left, were deactivated or merged."""
    sender = await session.get(User, form.user_id)
    if (
        sender is None
        or not sender.active
        or sender.merged_into_id is not None
        or sender.organization_id != form.organization_id
        or sender.role not in (Role.STAFF, Role.PROVIDER)
    ):
        return None
    return Actor(user_id=sender.id, organization_id=form.organization_id, role=Role(sender.role))


async def _ask(session: AsyncSession, form: RecurringForm) -> bool:
    """The occurrence's requests, as the form's sender, and each patient's reminder email;
    False when the sender can no longer send (the form is then paused)."""
    sender = await _active_sender(session, form)
    if sender is None:
        # Nobody to send it as: the form is paused (staff see is_active false and resume it).
        logger.info("recurring form %s: sender no longer active, form paused", form.id)
        form.is_active = False
        return False
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
    if form.skip_notification_email or not rows:
        return True
    # The patients' addresses in one query, not one per patient.
    patients = await session.execute(
        select(User.id, User.email).where(User.id.in_([row.recipient_id for row in rows]))
    )
    emails: dict[int, str | None] = {uid: email for uid, email in patients}
    for row in rows:
        if not emails.get(row.recipient_id):
            continue
        await queue_email(
            session,
            organization_id=row.organization_id,
            recipient_user_id=row.recipient_id,
            kind=EmailKind.FORM_REQUEST_REMINDER,
            params={"requested_form_completion_id": row.id},
        )
    return True


async def _passes(
    run_pass: Callable[[str], Awaitable[object]], seconds: float, failure: str
) -> None:
    """Passes forever; a failed one is logged and tried again at the next interval."""
    holder = holder_name()
    while True:
        try:
            await run_pass(holder)
        except Exception:  # a database hiccup must not end the loop
            logger.exception(failure)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # A cancellation a library swallowed during the pass still stops the loop: the
            # server's shutdown waits for this task.
            raise asyncio.CancelledError
        await asyncio.sleep(seconds)


def start_periodic(
    run_pass: Callable[[str], Awaitable[object]], seconds: float, *, name: str, failure: str
) -> asyncio.Task[None] | None:
    """A leased scheduler as a task of this process (none when the interval is 0): ``run_pass``
    gets this process's holder name for the lease. Shared by every scheduler of carebook serve."""
    if seconds <= 0:
        return None
    return asyncio.create_task(_passes(run_pass, seconds, failure), name=name)


def start_form_scheduler(database: Database, settings: Settings) -> asyncio.Task[None] | None:
    """The recurring form scheduler as a task of this process (none when the interval is 0)."""
    return start_periodic(
        lambda holder: run_due(database, settings, holder=holder),
        settings.form_schedule_seconds,
        name="carebook-form-schedule",
        failure="recurring form schedule pass failed",
    )
