"""The trigger-maintained user counters agree with counting the rows, whatever the write path."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from tests.support.counters import assert_counters_match

from carebook import builders, search
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.search import ListArgs, SearchState
from carebook.search.counters import UserCount
from carebook.users.models import User


async def _assert_counters_match(session: AsyncSession) -> None:
    counted = await session.execute(
        select(User.organization_id, User.role, User.active, func.count()).group_by(
            User.organization_id, User.role, User.active
        )
    )
    key = (UserCount.organization_id, UserCount.role, UserCount.active)
    kept = await session.execute(select(*key, func.sum(UserCount.total)).group_by(*key))
    expected = {tuple(row[:3]): row[3] for row in counted}
    assert {tuple(row[:3]): row[3] for row in kept if row[3]} == expected


async def test_counters_follow_inserts_archives_moves_and_deletes(
    database: Database, passwords: Passwords
) -> None:
    async with database.write_sessions() as session, session.begin():
        first = await builders.provider(session, passwords, email="count1@example.com")
        second = await builders.provider(session, passwords, email="count2@example.com")
        actor = builders.actor_of(first)
        patients = [
            await builders.patient(session, passwords, actor=actor, last_name=f"P{i}")
            for i in range(5)
        ]
        await _assert_counters_match(session)
        patients[0].active = False  # ORM update
        await session.flush()
        await session.execute(  # Core update, as a bulk path might
            update(User).where(User.id == patients[1].id).values(active=False)
        )
        await session.execute(
            update(User)
            .where(User.id == patients[2].id)
            .values(organization_id=second.organization_id)
        )
        await session.execute(delete(User).where(User.id == patients[3].id))
        await session.execute(text("UPDATE users SET first_name = 'x'"))  # no counted column
        await _assert_counters_match(session)
        state = SearchState()
        assert await search.count(session, actor, ListArgs(), state) == 3
        assert await search.count(session, actor, ListArgs(active_status="archived"), state) == 2
        assert await search.count(session, actor, ListArgs(active_status="active"), state) == 1


async def _connections_of_two_shards(
    stack: AsyncExitStack, database: Database
) -> tuple[AsyncConnection, AsyncConnection]:
    """Two connections that write different shards of a counter (their backends' process ids
    differ modulo 64, as pooled connections' nearly always do)."""
    seen: dict[int, AsyncConnection] = {}
    while len(seen) < 2:
        connection = await stack.enter_async_context(database.engine.connect())
        shard = (await connection.execute(text("SELECT pg_backend_pid() % 64"))).scalar_one()
        await connection.commit()
        seen.setdefault(int(shard), connection)
    first, second = seen.values()
    return first, second


@pytest.mark.only_on("postgresql", reason="SQLite has one writer at a time")
async def test_creations_in_one_organization_do_not_wait_for_each_others_commit(
    database: Database, passwords: Passwords
) -> None:
    # Each creation adds to the organization's patient counter in its own transaction. With one
    # counter row, the second INSERT waited until the first transaction ended (here: its lock
    # timeout); each connection now adds to its own shard. The names fall in different blocks.
    async with database.write_sessions() as session, session.begin():
        provider = await builders.provider(session, passwords, email="shards@example.com")
    person = {"organization_id": provider.organization_id, "role": "patient"}
    person |= {"first_name": "Shard", "dietitian_id": provider.user_id}
    async with AsyncExitStack() as stack:
        first, second = await _connections_of_two_shards(stack, database)
        await first.execute(insert(User).values(person | {"last_name": "Alder"}))
        await second.execute(text("SET LOCAL lock_timeout = '5s'"))
        await second.execute(insert(User).values(person | {"last_name": "Young"}))
        await second.commit()
        await first.commit()
    async with database.read_sessions() as session:
        await assert_counters_match(session)
        actor = builders.actor_of(provider)
        assert await search.count(session, actor, ListArgs(), SearchState()) == 2
