"""Recurring form requests: created with Awell's variables, occurrences created on time by the
scheduler with a clock the test sets, each once (two schedulers racing, a server killed inside
an occurrence and another taking over), their reminder emails delivered to a real SMTP server."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.support.api import Api
from tests.support.emails import deliver, outbox_rows, with_smtp
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.world import World

from carebook.accounts.form_schedule import run_due, run_occurrence
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.forms.models import RecurringForm, RecurringFormRun, RequestedFormCompletion
from carebook.notifications.models import EmailKind

# Awell's "send form completion request" document, and the variables its action sends.
CREATE = """mutation createFormCompletionRequest($input: createRequestedFormInput!) {
  createRequestedFormCompletion(input: $input) {
    requestedFormCompletion { id }
    messages { field message } } }"""
GET = """query getRequestedFormCompletion($id: ID!) {
  requestedFormCompletion(id: $id) { id recipient_id } }"""
RECURRING = """query($id: String, $type: String) {
  recurringForms(connectable_id: $id, connectable_type: $type) {
    id form_id form_type interval interval_type is_active recurrence_end_at user_id
    users_and_groups users { id } } }"""
UPDATE = """mutation($input: updateRecurringFormInput) {
  updateRecurringForm(input: $input) {
    recurringForm { id interval interval_type is_active users_and_groups }
    messages { field message } } }"""
DELETE = """mutation($input: deleteRequestedFormInput) {
  deleteRequestedFormCompletion(input: $input) {
    requestedFormCompletion { id } messages { field message } } }"""
UPDATE_CLIENT = """mutation($input: updateClientInput) {
  updateClient(input: $input) { user { id } messages { field message } } }"""
DESTROY = """mutation($input: destroyRecurringFormInput) {
  deleteRecurringForm(input: $input) {
    recurringForm { id users_and_groups } messages { field message } } }"""


def _awell(patient: int, **recurrence: Any) -> dict[str, Any]:
    """The action's input: recurrence_ends always sent, true exactly when ends_on is."""
    fields = {"recipient_ids": str(patient), "form": "12", "is_recurring": False}
    fields.update(recurrence)
    fields["recurrence_ends"] = "ends_on" in recurrence
    return {"input": fields}


async def _create(api: Api, variables: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.data(CREATE, variables))["createRequestedFormCompletion"]
    return payload


async def _requests(database: Database) -> list[RequestedFormCompletion]:
    async with database.read_sessions() as session:
        query = select(RequestedFormCompletion).order_by(RequestedFormCompletion.id)
        return list((await session.execute(query)).scalars())


async def _form(database: Database) -> RecurringForm:
    async with database.read_sessions() as session:
        return (await session.execute(select(RecurringForm))).scalar_one()


async def _runs(database: Database) -> list[datetime]:
    async with database.read_sessions() as session:
        query = select(RecurringFormRun.due_at).order_by(RecurringFormRun.due_at)
        return list((await session.execute(query)).scalars())


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


async def test_awells_one_off_request_is_created_and_read_back(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    payload = await _create(provider, _awell(world.a.patient_id))
    assert payload["messages"] is None
    request_id = payload["requestedFormCompletion"]["id"]
    read = await provider.data(GET, {"id": request_id})
    assert read["requestedFormCompletion"] == {
        "id": request_id,
        "recipient_id": str(world.a.patient_id),
    }
    # Another organization's provider, and another patient, see nothing.
    assert (await api.with_key(world.b.provider.api_key).data(GET, {"id": request_id})) == {
        "requestedFormCompletion": None
    }
    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(GET, {"id": request_id}))["requestedFormCompletion"]["id"]
    other = await _create(provider, _awell(world.a.other_patient_id))
    other_id = other["requestedFormCompletion"]["id"]
    assert (await patient.data(GET, {"id": other_id})) == {"requestedFormCompletion": None}


async def test_a_daily_request_creates_each_occurrence_once_on_time_with_its_email(
    api: Api, world: World, database: Database, settings: Settings, mailbox: Mailbox
) -> None:
    before = datetime.now(UTC)
    # The first occurrence is the next 09:30 (UTC); ends_on is two days after its date, so there
    # are three occurrences whatever the time of day the test runs (ends_on three days after
    # today gave four between midnight and 09:30).
    next_run = before.replace(hour=9, minute=30, second=0, microsecond=0)
    if next_run <= before:
        next_run += timedelta(days=1)
    ends = (next_run + timedelta(days=2)).date().isoformat()
    variables = _awell(
        world.a.patient_id, frequency="Daily", hour="9", minute="30", period="AM", ends_on=ends
    )
    variables["input"]["is_recurring"] = True
    provider = api.with_key(world.a.provider.api_key)
    payload = await _create(provider, variables)
    assert payload["messages"] is None
    assert len(await _requests(database)) == 1  # the first request, now
    form = await _form(database)
    first = form.next_run_at
    assert first is not None and (first.hour, first.minute) == (9, 30)
    assert before < first <= before + timedelta(days=1)
    listed = (await provider.data(RECURRING, {"id": str(world.a.patient_id), "type": "User"}))[
        "recurringForms"
    ]
    assert listed == [
        {
            "id": str(form.id),
            "form_id": "12",
            "form_type": "CustomModuleForm",
            "interval": "09:30",
            "interval_type": "1",
            "is_active": True,
            "recurrence_end_at": ends,
            "user_id": str(world.a.provider.user_id),
            "users_and_groups": [str(world.a.patient_id)],
            "users": [{"id": str(world.a.patient_id)}],
        }
    ]
    # A minute early: nothing. On time: one. Again at the same moment: nothing more.
    assert await run_due(database, settings, holder="s1", now=first - timedelta(minutes=1)) == 0
    assert await run_due(database, settings, holder="s1", now=first) == 1
    assert await run_due(database, settings, holder="s1", now=first) == 0
    # Servers down for a week: the latest occurrence up to ends_on is created, the one missed
    # before it recorded as skipped (the patient is not asked twice at once).
    assert await run_due(database, settings, holder="s1", now=first + timedelta(days=7)) == 1
    assert await _runs(database) == [first + timedelta(days=d) for d in range(3)]
    assert (await _form(database)).next_run_at is None
    requests = await _requests(database)
    assert len(requests) == 3 and all(r.recipient_id == world.a.patient_id for r in requests)
    assert [r.recurring_form_id for r in requests] == [form.id] * 3
    # Each occurrence's reminder, delivered for real.
    reminders = [
        m for m in await outbox_rows(database) if m.kind == EmailKind.FORM_REQUEST_REMINDER
    ]
    assert len(reminders) == 2
    assert (await deliver(database, with_smtp(settings, mailbox.url))).sent == 2
    assert [m.rcpt_tos for m in mailbox.received] == [["patient.a@example.com"]] * 2


async def test_two_schedulers_never_both_create_an_occurrence(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    variables = _awell(world.a.patient_id, frequency="Daily", hour="14", minute="5")
    variables["input"]["is_recurring"] = True
    await _create(api.with_key(world.a.provider.api_key), variables)
    due = (await _form(database)).next_run_at
    assert due is not None
    # Two servers (two engines) on the same database: the lease lets one of them in.
    second = create_database(settings)
    try:
        made = await asyncio.gather(
            run_due(database, settings, holder="s1", now=due),
            run_due(second, settings, holder="s2", now=due),
        )
        assert sorted(made) == [0, 1]
        # Without the lease (it ran out mid-pass), the unique key still lets one create it.
        later = due + timedelta(days=1)
        form_id = (await _form(database)).id
        both = await asyncio.gather(
            run_occurrence(database, form_id, later), run_occurrence(second, form_id, later)
        )
        assert sorted(both) == [False, True]
    finally:
        await second.dispose()
    assert await _runs(database) == [due, due + timedelta(days=1)]
    assert len(await _requests(database)) == 3


async def test_a_server_killed_inside_an_occurrence_loses_and_doubles_nothing(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    variables = _awell(world.a.patient_id, frequency="Weekly", weekday="Monday")
    variables["input"]["is_recurring"] = True
    await _create(api.with_key(world.a.provider.api_key), variables)
    due = (await _form(database)).next_run_at
    assert due is not None and due.weekday() == 0 and due.hour == 9
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.form_scheduler_child",
        settings.database_url,
        due.isoformat(),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ},
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 120)
        assert line.strip() == b"paused"
    finally:
        child.kill()  # SIGKILL: the occurrence's transaction never commits
        await child.wait()
    assert await _runs(database) == []
    # Restarted: the dead server's lease holds until it runs out, then the occurrence is made.
    assert await run_due(database, settings, holder="restarted", now=due) == 0
    lease = timedelta(seconds=settings.form_schedule_lease_seconds)
    assert await run_due(database, settings, holder="restarted", now=due + lease) == 1
    assert await run_due(database, settings, holder="restarted", now=due + lease) == 0
    assert await _runs(database) == [due]
    assert len(await _requests(database)) == 2
    assert (await _form(database)).next_run_at == due + timedelta(days=7)


async def test_a_paused_recurrence_creates_nothing_and_a_deleted_one_keeps_its_requests(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    variables = _awell(world.a.patient_id, frequency="Monthly", monthday="31st")
    variables["input"].update(
        is_recurring=True, recipient_ids=f"{world.a.patient_id},group-{world.a.group_id}"
    )
    await _create(provider, variables)
    form = await _form(database)
    update = {"id": str(form.id), "is_active": False, "frequency": "Weekly", "weekday": "friday"}
    changed = (await provider.data(UPDATE, {"input": update}))["updateRecurringForm"]
    assert changed == {
        "recurringForm": {
            "id": str(form.id),
            "interval": "Friday",
            "interval_type": "2",
            "is_active": False,
            "users_and_groups": [str(world.a.patient_id), f"group-{world.a.group_id}"],
        },
        "messages": None,
    }
    assert (
        await run_due(database, settings, holder="s1", now=datetime.now(UTC) + timedelta(days=60))
        == 0
    )
    # Taking the group off leaves the patient; taking the patient off ends it.
    off = {"id": str(form.id), "connectable_id": str(world.a.group_id)}
    left = (await provider.data(DESTROY, {"input": off}))["deleteRecurringForm"]
    assert left["recurringForm"]["users_and_groups"] == [str(world.a.patient_id)]
    off = {
        "id": str(form.id),
        "connectable_id": str(world.a.patient_id),
        "connectable_type": "User",
    }
    assert (await provider.data(DESTROY, {"input": off}))["deleteRecurringForm"]["messages"] is None
    assert (await provider.data(RECURRING, {}))["recurringForms"] == []
    [kept] = await _requests(database)
    assert kept.recurring_form_id is None


async def test_bad_recurrences_are_refused_and_write_nothing(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    cases = [
        ({"frequency": "Hourly"}, "frequency"),
        ({"frequency": "Daily"}, "hour"),
        ({"frequency": "Daily", "hour": "13", "period": "PM"}, "hour"),
        ({"frequency": "Weekly", "weekday": "Someday"}, "weekday"),
        ({"frequency": "Monthly", "monthday": "32nd"}, "monthday"),
        ({"frequency": "Weekly", "weekday": "Monday", "ends_on": "soon"}, "ends_on"),
    ]
    for fields, field in cases:
        variables = _awell(world.a.patient_id, **fields)
        variables["input"]["is_recurring"] = True
        payload = await _create(provider, variables)
        assert payload["requestedFormCompletion"] is None
        assert [m["field"] for m in payload["messages"]] == [field], fields
    assert await _requests(database) == []


async def test_recurring_forms_are_for_providers_and_staff_of_the_organization(
    api: Api, world: World, database: Database
) -> None:
    variables = _awell(world.a.patient_id, frequency="Weekly", weekday="Monday")
    variables["input"]["is_recurring"] = True
    await _create(api.with_key(world.a.provider.api_key), variables)
    form_id = str((await _form(database)).id)
    assert await api.with_token(world.a.patient_token).error_codes(RECURRING) == ["FORBIDDEN"]
    other = api.with_key(world.b.provider.api_key)
    assert (await other.data(RECURRING))["recurringForms"] == []
    refused = await other.data(UPDATE, {"input": {"id": form_id, "is_active": False}})
    assert refused["updateRecurringForm"]["messages"][0]["field"] == "id"
    assert (await _form(database)).is_active is True


async def test_each_occurrence_asks_the_patients_named_at_that_moment(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    named = f"{world.a.patient_id},group-{world.a.group_id}"
    variables = _awell(world.a.patient_id, frequency="Daily", hour="6", period="PM")
    variables["input"].update(is_recurring=True, recipient_ids=named, skip_notification_email=True)
    await _create(provider, variables)
    due = (await _form(database)).next_run_at
    assert due is not None
    # Since: the other patient joined the group, the patient named was archived.
    for fields in (
        {"id": str(world.a.other_patient_id), "user_group_id": str(world.a.group_id)},
        {"id": str(world.a.patient_id), "active": False},
    ):
        answer = await provider.data(UPDATE_CLIENT, {"input": fields})
        assert answer["updateClient"]["messages"] is None
    assert await run_due(database, settings, holder="s1", now=due) == 1
    # The first request (now) asked the patient; the occurrence, the group's new member only.
    asked = [r.recipient_id for r in await _requests(database)]
    assert asked == [world.a.patient_id, world.a.other_patient_id]
    # skip_notification_email: no reminder queued.
    assert [
        m for m in await outbox_rows(database) if m.kind == EmailKind.FORM_REQUEST_REMINDER
    ] == []


async def test_withdrawing_a_request_is_for_its_organizations_staff(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    created = await _create(provider, _awell(world.a.patient_id))
    variables = {"input": {"id": created["requestedFormCompletion"]["id"]}}
    other = (await api.with_key(world.b.provider.api_key).data(DELETE, variables))[
        "deleteRequestedFormCompletion"
    ]
    assert other == {
        "requestedFormCompletion": None,
        "messages": [{"field": "id", "message": "Requested form completion not found"}],
    }
    patient = api.with_token(world.a.patient_token)
    assert await patient.error_codes(DELETE, variables) == ["FORBIDDEN"]
    assert len(await _requests(database)) == 1
    done = (await provider.data(DELETE, variables))["deleteRequestedFormCompletion"]
    assert done["messages"] is None
    assert await _requests(database) == []
    assert (await provider.data(GET, variables["input"]))["requestedFormCompletion"] is None
