"""A conversation's messages (Conversation.notes) are read one past the nested cap, not whole."""

from __future__ import annotations

from tests.limits.conftest import MakeApi
from tests.limits.test_nested_rows_read import rows_from
from tests.support.api import Api
from tests.support.note_documents import conversation_with, sent
from tests.support.world import World

from carebook.db.engine import Database

MANY = 4  # messages; the test's cap is 1


async def test_a_conversations_messages_are_read_one_past_the_cap(
    api: Api, api_with: MakeApi, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    for index in range(MANY):
        await sent(provider, conversation_id, f"Message {index}")
    capped = (await api_with(nested_list_max_rows=1)).with_key(world.a.provider.api_key)
    with rows_from(database, "notes") as fetched:
        body = await capped.post(
            "query($id: ID) { conversation(id: $id) { notes { id } } }", {"id": conversation_id}
        )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert fetched and max(fetched) <= 2, fetched
    listed = (await api_with(nested_list_max_rows=MANY)).with_key(world.a.provider.api_key)
    got = await listed.data(
        "query($id: ID) { conversation(id: $id) { notes { content } } }", {"id": conversation_id}
    )
    assert [n["content"] for n in got["conversation"]["notes"]] == [
        f"Message {index}" for index in range(MANY)
    ]
