"""The trigger-maintained user counters agree with counting the rows, whatever the write path."""

from __future__ import annotations

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

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
    kept = await session.execute(
        select(UserCount.organization_id, UserCount.role, UserCount.active, UserCount.total)
    )
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
