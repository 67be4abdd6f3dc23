"""Migration 0011 fills ``search_tokens.shared`` of existing rows as the index writer does."""

from __future__ import annotations

import asyncio

from alembic import command
from tests.support.migration import empty_url, execute

from carebook import builders
from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.migrate import alembic_config, upgrade_async

__all__ = ["empty_url"]  # the fixture, used by name

_ROWS = "SELECT user_id, token, shared FROM search_tokens ORDER BY user_id, token"


async def test_backfill_equals_what_the_index_writes(empty_url: str, passwords: Passwords) -> None:
    await upgrade_async(empty_url)
    database = create_database(Settings(database_url=empty_url))
    try:
        async with database.write_sessions() as session, session.begin():
            owner = await builders.provider(session, passwords, email="shared@example.com")
            actor = builders.actor_of(owner)
            for first, last in (("Mariana", "Mariano"), ("Maria", "Marin"), ("Zed", "Able")):
                await builders.patient(
                    session, passwords, actor=actor, first_name=first, last_name=last
                )
    finally:
        await database.dispose()
    written = await execute(empty_url, _ROWS)
    assert any(shared for _, _, shared in written)  # "mariano" shares "marian" with "mariana"
    # Alembic's async environment runs its own event loop: call it from a thread.
    await asyncio.to_thread(command.downgrade, alembic_config(empty_url), "0010_list_speed")
    await upgrade_async(empty_url)
    assert await execute(empty_url, _ROWS) == written
