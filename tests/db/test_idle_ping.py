"""PostgreSQL pool connections are pinged before use only after sitting idle (db/hooks.py).

A server restart kills every pooled connection; a connection that sat idle is checked and
replaced before a request uses it. One in steady use is not pinged (that ping costs three round
trips); if it died anyway, one statement fails and the pool is renewed for the next.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from carebook.db.engine import Database


async def _kill_other_backends(database: Database) -> int:
    """Terminate the pool's server connections from a connection of the same pool."""
    async with database.engine.connect() as connection:
        killed = await connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        return int(killed.scalar_one())


async def _backend_pid(database: Database) -> int:
    async with database.read_sessions() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _warm_pool(database: Database) -> None:
    """Two pooled connections: the one to kill, and the one that kills it."""
    async with database.engine.connect() as a, database.engine.connect() as b:
        await a.execute(text("SELECT 1"))
        await b.execute(text("SELECT 1"))


@pytest.mark.only_on("postgresql", reason="SQLite has no server connection to lose")
async def test_an_idle_connection_killed_by_the_server_is_replaced_before_use(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _warm_pool(database)
    assert await _kill_other_backends(database) >= 1
    monkeypatch.setattr("carebook.db.hooks.PING_AFTER_IDLE_SECONDS", 0.0)  # everything is idle
    first = await _backend_pid(database)
    second = await _backend_pid(database)
    assert first > 0 and second > 0  # both reads answered: the dead connections were replaced


@pytest.mark.only_on("postgresql", reason="SQLite has no server connection to lose")
async def test_a_connection_in_steady_use_is_not_pinged(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _warm_pool(database)
    assert await _kill_other_backends(database) >= 1
    monkeypatch.setattr("carebook.db.hooks.PING_AFTER_IDLE_SECONDS", 3600.0)  # never idle
    with pytest.raises(DBAPIError):
        await _backend_pid(database)  # not pinged, so the dead connection is used and fails
    assert await _backend_pid(database) > 0  # the pool was renewed for the next request
