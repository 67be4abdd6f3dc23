"""PostgreSQL's pool keeps every connection it opened, and opens no more than its size.

Under 64 clients the pool of 10 kept connections and 10 of SQLAlchemy's overflow closed each
overflow connection as it went back: a worker opened and closed a connection per request at its
peak (docs/performance.md, "A pool that kept what it opened").
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import text
from tests.support.world import World

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database, create_database

pytestmark = pytest.mark.only_on("postgresql", reason="SQLite's connections are not the pool's")


async def _backends_at_once(database: Database, count: int, *, hold: float = 0.0) -> list[int]:
    """The server process of each of ``count`` sessions reading at the same time."""
    everyone_in = asyncio.Barrier(count) if hold == 0.0 else None

    async def one() -> int:
        async with database.read_sessions() as session:
            pid = int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            if everyone_in is not None:
                await everyone_in.wait()  # all hold their connection at once
            await asyncio.sleep(hold)
            return pid

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_the_connections_of_a_peak_are_kept_for_the_next_one(database: Database) -> None:
    # 15: more than the 10 the old pool kept, fewer than the 20 it allowed at once.
    first = await _backends_at_once(database, 15)
    second = await _backends_at_once(database, 15)
    assert len(set(first)) == 15
    assert set(second) == set(first)  # the same server processes: none closed, none opened


async def test_requests_beyond_the_pool_wait_for_a_connection(settings: Settings) -> None:
    small = create_database(settings.model_copy(update={"database_pool_size": 3}))
    try:
        pids = await _backends_at_once(small, 12, hold=0.02)
    finally:
        await small.dispose()
    assert len(pids) == 12  # every one answered
    assert len(set(pids)) <= 3  # on the pool's 3 connections, in turn


GROUP = """mutation { createGroup(input: {name: "Night shift"}) {
  user_group { id users_count } messages { field } } }"""


async def test_a_stored_answer_never_waits_for_a_second_connection(
    settings: Settings, world: World
) -> None:
    # The answer's count is read after the write, on a read session the request kept; the
    # Idempotency-Key record was then written on a second connection while it stayed open.
    # With every connection of a full pool held so, each request waited for another.
    small = create_database(settings.model_copy(update={"database_pool_size": 1}))
    app = create_app(settings, small)
    headers = {
        "Authorization": f"Basic {world.a.provider.api_key}",
        "AuthorizationSource": "API",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
            first = await asyncio.wait_for(
                http.post("/graphql", json={"query": GROUP}, headers=headers), 10
            )
            again = await asyncio.wait_for(
                http.post("/graphql", json={"query": GROUP}, headers=headers), 10
            )
    finally:
        await small.dispose()
    assert first.json()["data"]["createGroup"]["user_group"]["users_count"] == 0
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
