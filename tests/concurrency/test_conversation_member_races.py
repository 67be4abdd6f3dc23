"""updateConversation setting the members from several requests at once: each member is added
once (one membership, one ``conversation_membership.created`` event), nobody gets CONFLICT, and
the members after the race are the list of one of the requests, never a mix of several.

Every round fires its requests at once (asyncio.gather over the real ASGI app, one connection
each), on SQLite (writers take turns) and PostgreSQL (the conversation's row is locked before
its members are read, so a second request reads the first one's members once it commits).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from tests.support.api import Api
from tests.support.events import events_after, last_event_id
from tests.support.groups import add_patients
from tests.support.note_documents import conversation_with, send, session_of
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.conversations.models import ConversationMembership
from carebook.db.engine import Database

N = 8
ROUNDS = 4
UPDATE = """mutation updateConversation($input: updateConversationInput!) {
  updateConversation(input: $input) { conversation { id } messages { field message } } }"""


def _users(ids: list[int]) -> str:
    return ",".join(f"user-{i}" for i in ids)


async def _all(api: Api, conversation_id: str, lists: list[list[int]]) -> list[dict[str, Any]]:
    bodies = await asyncio.gather(
        *(
            api.data(UPDATE, {"input": {"id": conversation_id, "simple_added_users": _users(ids)}})
            for ids in lists
        )
    )
    return [body["updateConversation"] for body in bodies]


async def _members(database: Database, conversation_id: str) -> list[int]:
    async with database.read_sessions() as session:
        rows = await session.execute(
            select(ConversationMembership.user_id).where(
                ConversationMembership.conversation_id == int(conversation_id)
            )
        )
        return sorted(rows.scalars())


async def test_the_same_members_added_at_once_join_once(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    first, second = await add_patients(database, passwords, world.a, 2, tag="race")
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    after = await last_event_id(database)

    payloads = await _all(provider, conversation_id, [[first, second]] * N)

    assert [p["messages"] for p in payloads] == [None] * N
    owner = world.a.provider.user_id
    assert await _members(database, conversation_id) == sorted([owner, first, second])
    created = [e for e in await events_after(database, after) if e.event_type.endswith("created")]
    assert len(created) == 2  # one per new member, whatever the number of requests


async def test_different_lists_at_once_leave_one_of_them(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patients = await add_patients(database, passwords, world.a, N, tag="race")
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    owner = world.a.provider.user_id

    for _ in range(3):
        lists = [[patient] for patient in patients]
        payloads = await _all(provider, conversation_id, lists)
        assert [p["messages"] for p in payloads] == [None] * N
        members = await _members(database, conversation_id)
        assert members in [sorted([owner, *wanted]) for wanted in lists], members


DELETE = """mutation($input: deleteConversationMembershipInput) {
  deleteConversationMembership(input: $input) {
    conversationMembership { id user_id } messages { field message } } }"""


async def test_a_member_removed_by_several_at_once_leaves_once(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    (leaver,) = await add_patients(database, passwords, world.a, 1, tag="race")
    conversation_id = await conversation_with(provider, _users([world.a.patient_id, leaver]))
    after = await last_event_id(database)
    removal = {"input": {"conversation_id": conversation_id, "user_id": str(leaver)}}
    update = {"input": {"id": conversation_id, "simple_added_users": _users([world.a.patient_id])}}

    bodies = await asyncio.gather(
        *(provider.data(DELETE, removal) for _ in range(N // 2)),
        *(provider.data(UPDATE, update) for _ in range(N // 2)),
    )

    removed = [b["deleteConversationMembership"] for b in bodies[: N // 2]]
    updated = [b["updateConversation"] for b in bodies[N // 2 :]]
    assert [p["messages"] for p in updated] == [None] * (N // 2)
    # A removal that came after the member left is told so; none fails otherwise.
    gone = [{"field": "user_id", "message": "User is not a member of the conversation"}]
    assert all(p["messages"] in (None, gone) for p in removed), removed
    owner = world.a.provider.user_id
    assert await _members(database, conversation_id) == sorted([owner, world.a.patient_id])
    deleted = [e for e in await events_after(database, after) if e.event_type.endswith("deleted")]
    assert len(deleted) == 1  # the member left once


async def test_a_member_removed_while_writing_writes_nothing_after_leaving(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    (leaver,) = await add_patients(database, passwords, world.a, 1, tag="race")
    patient = api.with_token(await session_of(database, leaver))
    conversation_id = await conversation_with(provider, f"user-{world.a.patient_id}")
    removal = {"input": {"conversation_id": conversation_id, "user_id": str(leaver)}}

    for _ in range(ROUNDS):
        await _all(provider, conversation_id, [[world.a.patient_id, leaver]])
        after = await last_event_id(database)
        await asyncio.gather(
            *(send(patient, conversation_id, "<p>still here?</p>") for _ in range(3)),
            provider.data(DELETE, removal),
        )
        kinds = [
            e.event_type
            for e in await events_after(database, after)
            if e.event_type in {"message.created", "conversation_membership.deleted"}
        ]
        # Every message of the leaver was written while they were a member: none after the
        # removal's event (the writes take turns on the conversation).
        assert kinds.count("conversation_membership.deleted") == 1, kinds
        assert "message.created" not in kinds[kinds.index("conversation_membership.deleted") :]
