"""Scheduled chat messages (createNote / updateNote with ``scheduled_at``) through HTTP, and
their scheduler driven with a clock the test controls: a pending message is seen by its writer
alone and sends nothing until it is due; then it is released once (two schedulers racing, or a
server killed mid-release, neither lose nor double it) with its email and event."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState
from tests.support.api import Api
from tests.support.emails import outbox_rows
from tests.support.events import events_after, last_event_id
from tests.support.note_documents import (
    CONVERSATION,
    DELETE_NOTE,
    NOTE,
    NOTES,
    UPDATE_NOTE,
    conversation_with,
    send,
    sent,
    unread,
)
from tests.support.world import World

from carebook.accounts.note_schedule import release_one, run_due
from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.config import Settings
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.conversations.note_inputs import NoteChanges
from carebook.conversations.note_models import Note
from carebook.conversations.notes import update_note
from carebook.db.engine import Database, create_database
from carebook.errors import NotFound
from carebook.notifications.models import EmailKind

SCHEDULED = """query($cid: ID) { notes(conversation_id: $cid, scheduled_notes: true) { id }
  notesCount(conversation_id: $cid, scheduled_notes: true) }"""
MINE = """query($id: ID) { conversation(id: $id) {
  current_user_conversation_membership { id viewed } } }"""
MARK_READ = """mutation($input: updateConversationMembershipInput) {
  updateConversationMembership(input: $input) { messages { field message } } }"""


def _at(moment: datetime) -> str:
    """Healthie's date-time form, as its clients send ``scheduled_at``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000")


async def _new_message_emails(database: Database) -> list[int]:
    rows = await outbox_rows(database)
    return [r.recipient_user_id for r in rows if r.kind == EmailKind.NEW_MESSAGE]


async def _visible_to(caller: Api, note_id: str) -> Any:
    return (await caller.data(NOTE, {"id": note_id}))["note"]


async def _schedule(provider: Api, conversation_id: str, due: datetime) -> str:
    return await sent(
        provider, conversation_id, "<p>Time for your check-in</p>", scheduled_at=_at(due)
    )


async def test_a_scheduled_message_waits_unseen_then_is_sent_once_in_its_place(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    staff = api.with_key(world.a.staff.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(
        provider, f"user-{world.a.patient_id},user-{world.a.staff.user_id}"
    )
    before = await last_event_id(database)
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    note_id = await _schedule(provider, conversation_id, due)

    # Pending: its writer sees it (scheduled_notes lists it); nobody else, staff included.
    assert (await _visible_to(provider, note_id))["scheduled_at"] is not None
    assert (await provider.data(SCHEDULED, {"cid": conversation_id}))["notesCount"] == 1
    assert (await provider.data(NOTES, {"cid": conversation_id}))["notesCount"] == 1
    for other in (patient, staff):
        assert await _visible_to(other, note_id) is None
        assert (await other.data(NOTES, {"cid": conversation_id}))["notesCount"] == 0
        assert (await other.data(SCHEDULED, {"cid": conversation_id}))["notesCount"] == 0
        convo = (await other.data(CONVERSATION, {"id": conversation_id}))["conversation"]
        assert (convo["last_message_content"], convo["notes"]) == (None, [])
    assert await unread(patient) == 0
    assert await events_after(database, before) == []
    assert await _new_message_emails(database) == []

    # A message sent meanwhile, which the patient reads before the scheduled one is due.
    answer = await sent(provider, conversation_id, "<p>Results are in</p>")
    mine = (await patient.data(MINE, {"id": conversation_id}))["conversation"]
    membership = mine["current_user_conversation_membership"]["id"]
    await patient.data(MARK_READ, {"input": {"id": membership, "viewed": True}})
    assert await unread(patient) == 0

    assert await run_due(database, settings, holder="s1", now=due - timedelta(seconds=1)) == 0
    assert await run_due(database, settings, holder="s1", now=due) == 1
    assert await run_due(database, settings, holder="s1", now=due + timedelta(hours=1)) == 0

    # Released: in its place after the message sent while it waited, unread, with its event.
    got = await _visible_to(patient, note_id)
    assert got["content"] == "<p>Time for your check-in</p>"
    assert got["viewed"] is False
    assert (await provider.data(SCHEDULED, {"cid": conversation_id}))["notesCount"] == 0
    convo = (await patient.data(CONVERSATION, {"id": conversation_id}))["conversation"]
    assert convo["last_message_content"] == "Time for your check-in"
    assert [n["id"] for n in convo["notes"]] == [answer, note_id]
    assert await unread(patient) == 1
    seen = await provider.data(NOTE, {"id": note_id, "viewer": str(world.a.patient_id)})
    assert seen["note"]["other"] is False  # reading the later message did not read this one
    events = await events_after(database, before)
    assert [(e.event_type, e.resource_id) for e in events] == [
        ("message.created", int(answer)),
        ("message.created", int(note_id)),
    ]
    # One email for the answer; the patient had read it, so the release is one more.
    emails = await _new_message_emails(database)
    assert emails.count(world.a.patient_id) == 2


async def test_two_schedulers_release_a_message_once(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    first = await _schedule(provider, conversation_id, due)
    second_note = await _schedule(provider, conversation_id, due + timedelta(hours=1))
    before = await last_event_id(database)
    other = create_database(settings)
    try:
        # Two servers (two engines) on one database: the lease lets one of them in.
        made = await asyncio.gather(
            run_due(database, settings, holder="s1", now=due),
            run_due(other, settings, holder="s2", now=due),
        )
        assert sorted(made) == [0, 1]
        # Without the lease (it ran out mid-pass), the release itself lets one send it.
        later = due + timedelta(hours=1)
        both = await asyncio.gather(
            release_one(database, int(second_note), later),
            release_one(other, int(second_note), later),
        )
        assert sorted(both) == [False, True]
    finally:
        await other.dispose()
    events = await events_after(database, before)
    assert sorted(e.resource_id for e in events) == [int(first), int(second_note)]
    patient = api.with_token(world.a.patient_token)
    assert (await patient.data(NOTES, {"cid": conversation_id}))["notesCount"] == 2
    # The patient had not read the first when the second came: one email for both.
    assert await _new_message_emails(database) == [world.a.patient_id]


async def test_a_server_killed_mid_release_loses_and_doubles_nothing(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    note_id = await _schedule(provider, conversation_id, due)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.note_scheduler_child",
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
        child.kill()  # SIGKILL: the release's transaction never commits
        await child.wait()
    assert await _visible_to(patient, note_id) is None
    # Restarted: the dead server's lease holds until it runs out, then the message is sent.
    assert await run_due(database, settings, holder="restarted", now=due) == 0
    lease = timedelta(seconds=settings.form_schedule_lease_seconds)
    assert await run_due(database, settings, holder="restarted", now=due + lease) == 1
    assert await run_due(database, settings, holder="restarted", now=due + lease) == 0
    assert (await patient.data(NOTES, {"cid": conversation_id}))["notesCount"] == 1
    assert await _new_message_emails(database) == [world.a.patient_id]


async def test_a_pending_message_is_moved_sent_now_or_cancelled_by_its_writer(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    moved = await _schedule(provider, conversation_id, due)
    cancelled = await _schedule(provider, conversation_id, due)
    before = await last_event_id(database)

    later = due + timedelta(days=1)
    changed = await provider.data(UPDATE_NOTE, {"input": {"id": moved, "scheduled_at": _at(later)}})
    assert changed["updateNote"]["messages"] is None
    deleted = await provider.data(DELETE_NOTE, {"input": {"id": cancelled}})
    assert deleted["deleteNote"]["messages"] is None
    assert await run_due(database, settings, holder="s1", now=due) == 0
    assert await events_after(database, before) == []

    # A blank scheduled_at sends it now.
    now = await provider.data(UPDATE_NOTE, {"input": {"id": moved, "scheduled_at": ""}})
    assert now["updateNote"]["messages"] is None
    sent_now = await _visible_to(patient, moved)
    assert sent_now["content"] == "<p>Time for your check-in</p>"
    assert sent_now["scheduled_at"] is None  # sent: no time to come left to show
    assert await run_due(database, settings, holder="s1", now=later) == 0
    events = await events_after(database, before)
    assert [(e.event_type, e.resource_id) for e in events] == [("message.created", int(moved))]
    assert await _visible_to(patient, cancelled) is None
    assert await _new_message_emails(database) == [world.a.patient_id]

    # A sent message cannot be scheduled; a time already past sends at once.
    again = await provider.data(UPDATE_NOTE, {"input": {"id": moved, "scheduled_at": _at(later)}})
    assert again["updateNote"]["messages"] == [
        {"field": "scheduled_at", "message": "The message was already sent: it cannot be scheduled"}
    ]
    past = await send(provider, conversation_id, "Now", scheduled_at="2020-01-01 09:00:00 +0000")
    assert (await _visible_to(patient, past["note"]["id"]))["scheduled_at"] is None
    # Another member cannot move someone else's pending message.
    pending = await _schedule(provider, conversation_id, due)
    other = await patient.data(UPDATE_NOTE, {"input": {"id": pending, "scheduled_at": ""}})
    assert other["updateNote"]["messages"] == [{"field": "id", "message": "Note not found"}]


async def test_sent_in_a_providers_name_and_cancelled_when_the_writer_left(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    staff = api.with_key(world.a.staff.api_key)
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(
        staff, f"user-{world.a.patient_id},user-{world.a.provider.user_id}"
    )
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    writer = str(world.a.provider.user_id)
    note_id = await sent(staff, conversation_id, "Reminder", scheduled_at=_at(due), user_id=writer)
    # The staff member who sent it and the provider it speaks for see it; the patient does not.
    assert (await _visible_to(staff, note_id))["user_id"] == writer
    assert (await _visible_to(provider, note_id))["user_id"] == writer
    assert await _visible_to(patient, note_id) is None

    # The provider leaves the conversation before it is due: it is not sent in their name.
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            delete(ConversationMembership).where(
                ConversationMembership.conversation_id == int(conversation_id),
                ConversationMembership.user_id == world.a.provider.user_id,
            )
        )
    before = await last_event_id(database)
    assert await run_due(database, settings, holder="s1", now=due) == 0
    assert await _visible_to(patient, note_id) is None
    assert await _visible_to(staff, note_id) is None  # cancelled: gone for everyone
    assert await events_after(database, before) == []
    assert await _new_message_emails(database) == []


async def test_a_writer_who_left_cannot_send_their_pending_message_now(
    api: Api, world: World, database: Database
) -> None:
    staff = api.with_key(world.a.staff.api_key)
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(
        staff, f"user-{world.a.patient_id},user-{world.a.provider.user_id}"
    )
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    note_id = await _schedule(provider, conversation_id, due)
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            delete(ConversationMembership).where(
                ConversationMembership.conversation_id == int(conversation_id),
                ConversationMembership.user_id == world.a.provider.user_id,
            )
        )
    out = await provider.data(UPDATE_NOTE, {"input": {"id": note_id, "scheduled_at": ""}})
    assert out["updateNote"]["messages"] == [
        {"field": "id", "message": "Only a member of the conversation can write in it"}
    ]
    assert await _visible_to(patient, note_id) is None


def _cancel_before_the_lock(session: AsyncSession, note_id: int) -> None:
    """Cancel the message (as the scheduler does) after the caller read it as pending and
    just before it locks the conversation: the race, made certain."""
    done: list[bool] = []

    def cancel(state: ORMExecuteState) -> None:
        entities = (
            [d.get("entity") for d in state.statement.column_descriptions]
            if state.is_select
            else []
        )
        if done or Conversation not in entities:
            return
        done.append(True)
        state.session.execute(update(Note).where(Note.id == note_id).values(deleted=True))

    event.listen(session.sync_session, "do_orm_execute", cancel)


async def test_a_message_cancelled_by_the_scheduler_meanwhile_is_neither_sent_nor_edited(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    note_id = await _schedule(provider, conversation_id, due)
    actor = Actor(
        user_id=world.a.provider.user_id,
        organization_id=world.a.provider.organization_id,
        role=Role.PROVIDER,
    )
    for changes in (
        NoteChanges(id=note_id, scheduled_at=""),
        NoteChanges(id=note_id, content="Edited"),
    ):
        async with database.write_sessions() as session, session.begin():
            _cancel_before_the_lock(session, int(note_id))
            with pytest.raises(NotFound):
                await update_note(session, actor=actor, fields=changes)
            await session.rollback()
    assert await _visible_to(patient, note_id) is None


async def test_since_note_id_compares_places_within_one_conversation(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    old = await conversation_with(provider, str(world.a.patient_id), "old")
    for i in range(3):
        await sent(provider, old, f"old {i}")
    # As migration 0035 left an older conversation: its places are its ids, larger than the
    # places a newer conversation counts from.
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(Note).where(Note.conversation_id == int(old)).values(position=Note.id + 1000)
        )
    new = await conversation_with(provider, str(world.a.patient_id), "new")
    newest = await sent(provider, new, "new 1")
    got = await provider.data(NOTES, {"since": newest})
    assert got["notes"] == []


async def test_messages_released_in_one_pass_are_stamped_each_when_sent(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    ids = [int(await _schedule(provider, conversation_id, due)) for _ in range(2)]
    async with database.write_sessions() as session, session.begin():
        past = datetime.now(UTC) - timedelta(minutes=1)
        await session.execute(update(Note).where(Note.id.in_(ids)).values(scheduled_at=past))
    assert await run_due(database, settings, holder="s1") == 2
    async with database.read_sessions() as session:
        rows = await session.execute(
            select(Note.created_at).where(Note.id.in_(ids)).order_by(Note.position)
        )
        first, second = rows.scalars().all()
    # Each is stamped at its own release, not at the pass's start: later sent, later stamped.
    assert first < second
