"""Deep pages in last-name order come from the block counters, and agree with OFFSET."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from tests.support.db import statements_sent

from carebook import builders, search
from carebook.auth.actor import Actor
from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.search import ListArgs, SearchState, pages
from carebook.search.counters import BLOCK_OF_USER, ListBlock
from carebook.users.models import User

# Repeated names, block starts themselves ("Ba", "B"), names before the first letter block and
# after the last one, case and accents: blocks are compared in the database's own collation.
NAMES = ["Baker", "baker", "Ba", "B", "Adams", "Zoë", "Zoe", "Ng", "Øst", "O'Neil", "1st"] * 3


async def _assert_counters_match(session: AsyncSession) -> None:
    """The triggers' totals equal a count of the users by block, from scratch."""
    counted = await session.execute(
        text(
            "SELECT organization_id, role, block, SUM(CASE WHEN active THEN 1 ELSE 0 END),"  # noqa: S608 - constant SQL
            " COUNT(*) FROM (SELECT organization_id, role, active,"
            f" {BLOCK_OF_USER.format(row='users')} AS block FROM users) AS placed"
            " GROUP BY organization_id, role, block"
        )
    )
    kept = await session.execute(
        select(
            ListBlock.organization_id,
            ListBlock.role,
            ListBlock.start,
            ListBlock.active_total,
            ListBlock.active_total + ListBlock.archived_total,
        )
    )
    expected = {tuple(row[:3]): tuple(row[3:]) for row in counted}
    assert {tuple(row[:3]): tuple(row[3:]) for row in kept if row[4]} == expected
    assert len(expected) > 1


async def test_counters_follow_every_write_path(database: Database, passwords: Passwords) -> None:
    async with database.write_sessions() as session, session.begin():
        first = await builders.provider(session, passwords, email="names1@example.com")
        second = await builders.provider(session, passwords, email="names2@example.com")
        actor = builders.actor_of(first)
        patients = [
            await builders.patient(
                session, passwords, actor=actor, last_name=name, email=f"n{i}@example.com"
            )
            for i, name in enumerate(["Baker", "Baker", "Adams", "Ng", "Ng", "Cho"])
        ]
        await _assert_counters_match(session)
        patients[0].last_name = "Adams"  # ORM rename
        patients[1].active = False  # ORM archive
        await session.flush()
        await _assert_counters_match(session)
        await session.execute(  # Core rename and archive at once, as a bulk path might
            update(User).where(User.id == patients[3].id).values(last_name="Zed", active=False)
        )
        await session.execute(
            update(User)
            .where(User.id == patients[4].id)
            .values(organization_id=second.organization_id)
        )
        await session.execute(update(User).where(User.id == patients[2].id).values(role="staff"))
        await session.execute(delete(User).where(User.id == patients[5].id))  # "Cho" is gone
        await session.execute(text("UPDATE users SET first_name = 'x'"))  # no counted column
        await _assert_counters_match(session)
        # One statement moving many users between blocks (PostgreSQL fires the row triggers
        # after the whole statement).
        await session.execute(text("UPDATE users SET last_name = 'a' || last_name"))
        await _assert_counters_match(session)


async def _patients(database: Database, passwords: Passwords) -> Actor:
    async with database.write_sessions() as session, session.begin():
        provider = await builders.provider(session, passwords, email="deep@example.com")
        actor = builders.actor_of(provider)
        for i, name in enumerate(NAMES):
            patient = await builders.patient(
                session, passwords, actor=actor, last_name=name, email=f"deep{i}@example.com"
            )
            patient.active = i % 4 != 0
        # Another organization's patients must not shift this one's positions.
        other = await builders.provider(session, passwords, email="deep-other@example.com")
        for name in ("Baker", "Zz", "Aa"):
            await builders.patient(
                session, passwords, actor=builders.actor_of(other), last_name=name,
                email=f"deep-other-{name}@example.com",
            )  # fmt: skip
    return actor


async def _plain_order(
    session: AsyncSession, actor: Actor, sort: str, active: bool | None
) -> list[int]:
    """The oracle: every patient's id in list order, by the database's own ORDER BY."""
    query = select(User.id).where(
        User.organization_id == actor.organization_id, User.role == "patient"
    )
    if active is not None:
        query = query.where(User.active.is_(active))
    if sort == "last_name_desc":
        query = query.order_by(User.last_name.desc(), User.id.desc())
    else:
        query = query.order_by(User.last_name.asc(), User.id.asc())
    return list((await session.execute(query)).scalars())


@pytest.mark.parametrize("sort", ["last_name_desc", "last_name_asc"])
@pytest.mark.parametrize("status", [None, "active", "archived"])
async def test_every_offset_agrees_with_the_sort_index(
    database: Database,
    passwords: Passwords,
    monkeypatch: pytest.MonkeyPatch,
    sort: str,
    status: str | None,
) -> None:
    actor = await _patients(database, passwords)
    monkeypatch.setattr(pages, "COUNTED_OFFSET", 1)
    active = None if status is None else status == "active"
    state, asked = SearchState(), 0
    async with database.read_sessions() as session:
        expected = await _plain_order(session, actor, sort, active)
        with statements_sent(database) as statements:
            for offset in range(1, len(expected) + 2):
                for limit in (1, 3, 10):
                    args = ListArgs(sort=sort, active_status=status, offset=offset, limit=limit)
                    page = await search.page(session, actor, args, state)
                    assert [user.id for user in page] == expected[offset : offset + limit]
                    asked += 1
    # Every page above came from the counters: one statement each, reading the blocks.
    assert sum("list_blocks" in statement for statement in statements) == asked


async def test_filters_keywords_and_other_sorts_keep_the_sort_index(
    database: Database, passwords: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = await _patients(database, passwords)
    monkeypatch.setattr(pages, "COUNTED_OFFSET", 1)
    async with database.read_sessions() as session:
        with statements_sent(database) as statements:
            for args in (
                ListArgs(offset=2, keywords="baker"),
                ListArgs(offset=2, sort="first_name_asc"),
                ListArgs(offset=2, ids=[1, 2, 3]),
            ):
                await search.page(session, actor, args, SearchState())
    assert statements and not any("list_blocks" in statement for statement in statements)
