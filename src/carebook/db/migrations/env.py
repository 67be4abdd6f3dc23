"""Alembic environment: runs migrations over the async engine on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import String
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeEngine

from carebook.db.types import UTCDateTime
from carebook.tables import Base

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write portable types into migrations, so they never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _compare_type(
    migration: MigrationContext,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Autogenerate's type comparison, blind to VARCHAR widths on SQLite only.

    SQLite ignores a declared width (a VARCHAR is TEXT of any length), so migration 0015 widens
    columns on PostgreSQL only and SQLite's schema keeps the old widths. None: the default
    comparison (PostgreSQL compares widths in full).
    """
    if (
        migration.dialect.name == "sqlite"
        and isinstance(inspected_type, String)
        and isinstance(metadata_type, String)
        and inspected_type._type_affinity is metadata_type._type_affinity
        and inspected_type.length != metadata_type.length
    ):
        return False
    return None


def _note_applied(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    """Collect the applied revisions for the caller (``carebook db upgrade`` names them)."""
    applied = config.attributes.get("applied")
    if applied is not None and step.is_upgrade:
        applied.extend(step.up_revision_ids)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        compare_type=_compare_type,
        # SQLite cannot ALTER most things; batch mode rebuilds tables so the same migration runs.
        render_as_batch=connection.dialect.name == "sqlite",
        on_version_apply=_note_applied,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    """Entry point Alembic calls."""
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    asyncio.run(_run_async(url))


run_migrations_online()
