"""PostgreSQL read sessions autocommit: no BEGIN / ROLLBACK round trips around a request's reads."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from carebook.db.engine import Database


async def test_each_read_statement_is_its_own_transaction(database: Database, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite's read engine is query_only, tested in test_sqlite_connections.py")
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
