"""Running Alembic migrations from code (CLI, server start, tests)."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", "carebook.db:migrations")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "heads") -> list[str]:
    """Migrate the database to ``revision`` (blocking; call from sync code).

    Returns the revisions applied, in order (env.py notes each one): empty when it was current.
    """
    config = alembic_config(database_url)
    applied: list[str] = []
    config.attributes["applied"] = applied
    command.upgrade(config, revision)
    return applied


async def upgrade_async(database_url: str, revision: str = "heads") -> list[str]:
    """Migrate from async code: Alembic's async env runs its own loop, so use a thread."""
    return await asyncio.to_thread(upgrade, database_url, revision)
