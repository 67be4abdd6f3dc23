"""Read sessions autocommit: no BEGIN / ROLLBACK around a request's reads, on either database.

A fast path (carebook.db.paths): with CAREBOOK_FAST_PATHS off, read sessions are plain ones.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from tests.support.db import statements_sent

from carebook.config import Settings
from carebook.db.engine import Database


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test database's settings with the fast paths on: they are what is tested here,
    whatever CAREBOOK_TEST_FAST_PATHS says."""
    return settings.model_copy(update={"fast_paths": True})


@pytest.mark.only_on(
    "postgresql", reason="SQLite has no now() (the test below shows the same on SQLite)"
)
async def test_each_read_statement_is_its_own_transaction(database: Database) -> None:
    async with database.read_sessions() as session:
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await asyncio.sleep(0.01)
        second = (await session.execute(text("SELECT now()"))).scalar_one()
        # now() is the start of the transaction: inside one, both statements would agree.
        assert second > first
    async with database.write_sessions() as session, session.begin():
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await asyncio.sleep(0.01)
        assert (await session.execute(text("SELECT now()"))).scalar_one() == first


@pytest.mark.only_on(
    "sqlite", reason="PostgreSQL's reads autocommit by isolation level (the test above)"
)
async def test_sqlite_read_sessions_send_no_begin_and_see_later_commits(database: Database) -> None:
    async with database.write_sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE marks (n INTEGER)"))
    try:
        with statements_sent(database) as sent:
            async with database.read_sessions() as session:
                before = (await session.execute(text("SELECT count(*) FROM marks"))).scalar_one()
                async with database.write_sessions() as writer, writer.begin():
                    await writer.execute(text("INSERT INTO marks VALUES (1)"))
                # Inside a BEGIN (deferred), the first SELECT would have fixed the snapshot at 0.
                after = (await session.execute(text("SELECT count(*) FROM marks"))).scalar_one()
    finally:
        # The session's database is shared: a table left behind made test_migrations' check
        # that models and migrations agree fail whenever it ran later in the same worker.
        async with database.write_sessions() as session, session.begin():
            await session.execute(text("DROP TABLE marks"))
    assert (before, after) == (0, 1)
    reads = [s for s in sent if "marks" in s and s.startswith("SELECT")]
    # The only BEGIN sent is the write session's (BEGIN IMMEDIATE).
    assert len(reads) == 2 and [s for s in sent if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
