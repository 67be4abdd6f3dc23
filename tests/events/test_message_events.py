"""The message.* events: createNote fires message.created, deleteNote message.deleted, both
about the Note (updateNote fires none: Healthie has no message.updated); a refused write none."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.events import events_after, last_event_id
from tests.support.note_documents import DELETE_NOTE, UPDATE_NOTE, conversation_with, send, sent
from tests.support.world import World

from carebook.db.engine import Database


async def test_messages_fire_created_and_deleted(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    before = await last_event_id(database)
    refused = await send(provider, conversation_id, "   ")
    assert refused["messages"] is not None
    note_id = await sent(provider, conversation_id, "Hello")
    await provider.data(UPDATE_NOTE, {"input": {"id": note_id, "content": "Hello again"}})
    await provider.data(DELETE_NOTE, {"input": {"id": note_id}})
    events = await events_after(database, before)
    assert [(e.event_type, e.resource_type, e.resource_id, e.organization_id) for e in events] == [
        ("message.created", "Note", int(note_id), world.a.provider.organization_id),
        ("message.deleted", "Note", int(note_id), world.a.provider.organization_id),
    ]
