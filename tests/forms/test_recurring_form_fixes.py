"""The recurring form scheduler under the faults a review found: a schedule set back onto an
occurrence already created, a broken form among others, servers down for months, a lease lost
mid-pass, a sender who left, and a change of ``period`` alone. The clock is the test's."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from tests.forms.test_recurring_forms import (
    UPDATE,
    UPDATE_CLIENT,
    _awell,
    _create,
    _form,
    _requests,
    _runs,
)
from tests.support.api import Api
from tests.support.emails import outbox_rows
from tests.support.world import World

from carebook.accounts import form_schedule
from carebook.accounts.form_schedule import is_run_taken, run_due, take_lease
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.forms import service as form_service
from carebook.forms.models import RecurringForm, RecurringFormRun
from carebook.notifications.models import EmailKind
from carebook.users.models import User


async def _daily(api: Api, world: World, hour: str, **more: str) -> None:
    variables = _awell(world.a.patient_id, frequency="Daily", hour=hour, **more)
    variables["input"]["is_recurring"] = True
    assert (await _create(api.with_key(world.a.provider.api_key), variables))["messages"] is None


async def _forms(database: Database) -> list[RecurringForm]:
    async with database.read_sessions() as session:
        query = select(RecurringForm).order_by(RecurringForm.next_run_at)
        return list((await session.execute(query)).scalars())


async def _due(database: Database) -> datetime:
    due = (await _form(database)).next_run_at
    assert due is not None
    return due


async def test_a_schedule_set_back_onto_a_created_occurrence_moves_on_and_sends_again(
    api: Api, world: World, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _daily(api, world, "9", minute="30", period="AM")
    form_id, first = (await _form(database)).id, await _due(database)
    assert await run_due(database, settings, holder="s1", now=first) == 1
    # The API server's clock a second behind the scheduler's: the update computes "next" from
    # before the occurrence just created.
    monkeypatch.setattr(form_service, "utcnow", lambda: first - timedelta(seconds=1))
    provider = api.with_key(world.a.provider.api_key)
    changed = await provider.data(UPDATE, {"input": {"id": str(form_id), "minute": "30"}})
    assert changed["updateRecurringForm"]["messages"] is None
    monkeypatch.undo()
    assert await _due(database) == first + timedelta(days=1)
    # Set back onto it anyway (as the PostgreSQL race writes it): skipped once, then on time.
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(RecurringForm).values(next_run_at=first))
    assert await run_due(database, settings, holder="s1", now=first + timedelta(minutes=1)) == 0
    assert await _due(database) == first + timedelta(days=1)
    made = [
        await run_due(database, settings, holder="s1", now=first + timedelta(days=d))
        for d in (1, 2)
    ]
    assert made == [1, 1]
    assert await _runs(database) == [first + timedelta(days=d) for d in range(3)]
    assert len(await _requests(database)) == 4  # the first one, then one a day


async def test_a_broken_form_does_not_starve_the_others(
    api: Api, world: World, database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _daily(api, world, "8")
    await _daily(api, world, "9")
    broken, other = await _forms(database)
    assert other.next_run_at is not None
    # The earlier one holds a value no rule reads (written before a validation existed).
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(RecurringForm).where(RecurringForm.id == broken.id).values(frequency="Hourly")
        )
    monkeypatch.setattr(form_schedule, "BATCH", 2)
    now = other.next_run_at + timedelta(hours=1)
    assert await run_due(database, settings, holder="s1", now=now) == 1
    assert await _runs(database) == [other.next_run_at]
    # Tried once, then left alone until its retry time, further away at each failure.
    assert await run_due(database, settings, holder="s1", now=now) == 0
    for attempts, delay in ((1, 5), (2, 10), (3, 20)):
        failing = (await _forms(database))[0]
        assert failing.id == broken.id and failing.failed_attempts == attempts
        assert failing.retry_at == now + timedelta(minutes=delay)
        now = failing.retry_at
        assert await run_due(database, settings, holder="s1", now=now) == 0


async def test_months_of_downtime_send_one_request_not_one_per_missed_day(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    await _daily(api, world, "7")
    first = await _due(database)
    assert await run_due(database, settings, holder="s1", now=first + timedelta(days=89)) == 1
    runs = await _runs(database)
    assert runs == [first + timedelta(days=d) for d in range(90)]
    async with database.read_sessions() as session:
        query = select(RecurringFormRun.skipped).order_by(RecurringFormRun.due_at)
        assert list((await session.execute(query)).scalars()) == [True] * 89 + [False]
    assert len(await _requests(database)) == 2
    reminders = [
        m for m in await outbox_rows(database) if m.kind == EmailKind.FORM_REQUEST_REMINDER
    ]
    assert len(reminders) == 1
    assert await _due(database) == first + timedelta(days=90)


async def test_a_pass_stops_when_its_lease_is_taken_over(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    await _daily(api, world, "8")
    await _daily(api, world, "9")
    _, later = await _forms(database)
    assert later.next_run_at is not None
    now = later.next_run_at
    lease = timedelta(seconds=settings.form_schedule_lease_seconds)
    taken: list[bool] = []

    async def slow() -> None:
        # The first occurrence outlasted the lease: another server took it over meanwhile.
        taken.append(
            await take_lease(database, "s2", now + lease, settings.form_schedule_lease_seconds)
        )

    assert await run_due(database, settings, holder="s1", now=now, between=slow) == 1
    assert taken == [True]
    assert len(await _runs(database)) == 1  # s1 stopped; the other form is s2's to create


async def test_a_sender_who_left_pauses_the_form_and_sends_nothing(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    await _daily(api, world, "10")
    due = await _due(database)
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.id == world.a.provider.user_id).values(active=False)
        )
    assert await run_due(database, settings, holder="s1", now=due) == 0
    assert len(await _requests(database)) == 1  # the first one only
    assert (await _form(database)).is_active is False


async def test_changing_only_the_period_keeps_the_hour(
    api: Api, world: World, database: Database
) -> None:
    await _daily(api, world, "9", period="PM")
    form_id = str((await _form(database)).id)
    provider = api.with_key(world.a.provider.api_key)
    changed = (await provider.data(UPDATE, {"input": {"id": form_id, "period": "AM"}}))[
        "updateRecurringForm"
    ]
    assert changed["messages"] is None
    assert changed["recurringForm"]["interval"] == "09:00"
    assert (await _due(database)).hour == 9


async def test_an_occurrence_already_recorded_is_passed_over_not_retried_forever(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    await _daily(api, world, "11")
    due = await _due(database)
    async with database.write_sessions() as session, session.begin():
        session.add(RecurringFormRun(recurring_form_id=(await _form(database)).id, due_at=due))
    assert await run_due(database, settings, holder="s1", now=due) == 0
    assert await _due(database) == due + timedelta(days=1)


async def _users_statements(database: Database, now: datetime, settings: Settings) -> int:
    """How many statements reading ``users`` one pass at ``now`` runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM users" in statement:
            seen.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert await run_due(database, settings, holder="s1", now=now) == 1
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


async def test_an_occurrence_reads_its_patients_in_queries_not_one_per_patient(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    joined = {"id": str(world.a.other_patient_id), "user_group_id": str(world.a.group_id)}
    assert (await provider.data(UPDATE_CLIENT, {"input": joined}))["updateClient"][
        "messages"
    ] is None
    await _daily(api, world, "8")
    alone = await _due(database)
    assert await _users_statements(database, alone, settings) > 0
    single = await _users_statements(database, alone + timedelta(days=1), settings)
    # Now a patient and a group of two (the patient again, and another): three requests.
    form_id = str((await _form(database)).id)
    named = {"id": form_id, "recipient_ids": f"{world.a.patient_id},group-{world.a.group_id}"}
    assert (await provider.data(UPDATE, {"input": named}))["updateRecurringForm"][
        "messages"
    ] is None
    before = len(await _requests(database))
    many = await _users_statements(database, alone + timedelta(days=2), settings)
    assert len(await _requests(database)) - before == 2
    assert many <= single + 1  # the group's members: one query, whatever their number


async def _refusal(database: Database, run: RecurringFormRun) -> IntegrityError:
    with pytest.raises(IntegrityError) as refused:
        async with database.write_sessions() as session, session.begin():
            session.add(run)
    return refused.value


async def test_only_the_runs_unique_key_counts_as_an_occurrence_created_elsewhere(
    api: Api, world: World, database: Database
) -> None:
    await _daily(api, world, "12")
    form = await _form(database)
    assert form.next_run_at is not None
    async with database.write_sessions() as session, session.begin():
        session.add(RecurringFormRun(recurring_form_id=form.id, due_at=form.next_run_at))
    again = RecurringFormRun(recurring_form_id=form.id, due_at=form.next_run_at)
    assert is_run_taken(await _refusal(database, again))
    # Another constraint (a run of no form) is a failure, not a race to pass over.
    orphan = RecurringFormRun(recurring_form_id=form.id + 1000, due_at=form.next_run_at)
    assert not is_run_taken(await _refusal(database, orphan))
