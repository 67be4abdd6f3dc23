"""Alembic environment: runs migrations over the async engine on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import String, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
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
        # All pending migrations in one transaction on SQLite too, as on PostgreSQL (Alembic's
        # default for SQLite is none): a migration that fails, or a server stopped mid-way
        # (SIGTERM while a fresh database is built), leaves the schema as it was, never half
        # built. SQLite's DDL is transactional; only its driver never began the transaction
        # (_sqlite_transactions).
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """Transactions that hold DDL: Python's sqlite3 begins one on its own only before an INSERT,
    UPDATE or DELETE, so a CREATE TABLE ran outside any and was kept at once. Here the driver
    begins none, and each SQLAlchemy transaction sends its own BEGIN (SQLAlchemy's recipe for
    SQLite). IMMEDIATE: the version read and the changes under one write lock, so two servers
    starting on one fresh file migrate one after the other."""

    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def run_migrations_online() -> None:
    """Entry point Alembic calls."""
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    asyncio.run(_run_async(url))


run_migrations_online()
