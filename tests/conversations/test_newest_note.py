"""A conversation's newest message (last_message_content) is read through the index
``ux_notes_conversation_id_position`` (migration 0035: messages in the order they were sent,
which for a scheduled one is not its id's), not by scanning its history."""

from __future__ import annotations

from sqlalchemy import text
from tests.support.api import Api
from tests.support.note_documents import DELETE_NOTE, conversation_with, sent
from tests.support.world import World

from carebook.conversations.note_queries import last_notes_query
from carebook.db.engine import Database

LAST = "query($id: ID) { conversation(id: $id) { id last_message_content } }"
INDEX = "ux_notes_conversation_id_position"


async def test_the_newest_message_passes_over_a_deleted_one(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    await sent(provider, conversation_id, "<p>first</p>")
    await sent(provider, conversation_id, "<p>second</p>")
    third = await sent(provider, conversation_id, "<p>third</p>")
    out = await provider.data(LAST, {"id": conversation_id})
    assert out["conversation"]["last_message_content"] == "third"
    deleted = await provider.data(DELETE_NOTE, {"input": {"id": third}})
    assert deleted["deleteNote"]["messages"] is None
    out = await provider.data(LAST, {"id": conversation_id})
    assert out["conversation"]["last_message_content"] == "second"


async def _plan(database: Database, ids: list[int]) -> str:
    """The database's plan of the newest-message read (sequential scans off on PostgreSQL,
    whose planner scans a table this small whatever its indexes)."""
    async with database.read_sessions() as session, session.begin():
        dialect = session.get_bind().dialect
        sql = str(
            last_notes_query(ids).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        )
        if dialect.name == "postgresql":
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            rows = await session.execute(text(f"EXPLAIN {sql}"))
        else:
            rows = await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
        return "\n".join(str(tuple(row)) for row in rows)


async def test_the_newest_message_is_read_by_the_index(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    for n in range(3):
        await sent(provider, conversation_id, f"<p>message {n}</p>")
    plan = await _plan(database, [int(conversation_id)])
    assert INDEX in plan, plan
