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


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Migrate the database to ``revision`` (blocking; call from sync code)."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "heads") -> None:
    """Migrate from async code: Alembic's async env runs its own loop, so use a thread."""
    await asyncio.to_thread(upgrade, database_url, revision)
