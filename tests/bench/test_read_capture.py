"""The reads' floor (the bare endpoint and the SQL layer) replays what the server sends.

``bench.operations.capture_sql`` captures each read's statements by calling carebook's own
code; the statements must be those ``carebook serve`` sends for the benchmark's GraphQL
document once warm: only the users columns the document selects, no API-key look-up (the server
keeps the caller's actor). Before 2026-12-07 the capture read every column and the caller's key
on every request, so the floors carried work the server does not do.
"""

from __future__ import annotations

from typing import Any

import httpx
from bench.generate import Options, generate
from bench.operations import capture_sql, read_operations

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database, create_database

# A deep page (offset 150 of 300: the ids found first), counts, common and rare words.
COMPARED = (
    "user",
    "users_first",
    "users_deep",
    "search1_rare",
    "search1_common",
    "count_all",
    "count_keywords",
)
# What the server sends besides the read: transaction control and the read trail's batch.
NOT_THE_READ = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE", "INSERT")


def _reads(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.lstrip().upper().startswith(NOT_THE_READ)]


async def _served(url: str, world: Any, operation: Any) -> list[str]:
    """The statements the app sends for the operation's first variant, its second time."""
    # The caller's actor kept for the whole test, as a server keeps it between requests (with
    # the 2-second default a slow machine could see it expire between the two requests).
    settings = Settings(database_url=url, api_key_cache_seconds=3600)
    database = create_database(settings)
    app = create_app(settings, database)
    headers = {"Authorization": f"Basic {world.api_key}", "AuthorizationSource": "API"}
    body = {"query": operation.document, "variables": operation.variants[0]}
    seen: list[str] = []
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            first = (await client.post("/graphql", json=body, headers=headers)).json()
            assert not first.get("errors"), first
            stop = database.observe(seen.append)
            try:
                await client.post("/graphql", json=body, headers=headers)
            finally:
                stop()
    finally:
        await database.dispose()
    return _reads(seen)


async def test_the_captured_reads_are_the_servers_statements(
    database_url: str, database: Database
) -> None:
    """``database`` empties the tables afterwards (the generated world, the read trail)."""
    world = await generate(
        Options(database_url, 300, 3, recreate=False, migrate=False), log=lambda _: None
    )
    operations = [o for o in read_operations(world, 1) if o.name in COMPARED]
    for operation in operations:
        operation.variants = operation.variants[:1]
    captured = await capture_sql(world, operations)
    for operation in operations:
        replayed = [sql for sql, _ in captured[operation.name]["variants"][0]]
        served = await _served(database_url, world, operation)
        assert replayed == served, operation.name
        assert not any("api_keys" in sql for sql in replayed)
        assert not any("users.quick_notes" in sql for sql in replayed)
