"""Engine and session factory.

SQLite specifics live here and nowhere else:
- WAL journal and a busy timeout so readers never block the single writer;
- ``synchronous=FULL`` by default (``CAREBOOK_SQLITE_SYNCHRONOUS``): in WAL mode NORMAL already
  survives a killed process, but a commit acknowledged just before a power cut or an OS crash
  can vanish; FULL syncs the WAL at every commit, so an acknowledged write is on disk;
- write transactions start with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then
  writes fails with "database is locked" under concurrent writers whatever the busy timeout,
  because SQLite cannot upgrade its read lock while another writer waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from carebook.config import Settings
from carebook.search import index as search_index

WRITE_OPTION = "carebook_write"


@dataclass(frozen=True)
class Database:
    """An engine and the two session factories of the application."""

    engine: AsyncEngine
    read_sessions: async_sessionmaker[AsyncSession]
    write_sessions: async_sessionmaker[AsyncSession]

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _install_sqlite_hooks(engine: AsyncEngine, settings: Settings) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the driver so "begin" below decides how to start.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # The setting is a Literal checked by pydantic, so it is safe to splice into the pragma.
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        # A large page cache and memory-mapped reads: index walks and rowid look-ups of a big
        # practice stay in memory instead of a system call per page.
        cursor.execute(f"PRAGMA cache_size=-{int(settings.sqlite_cache_mib) * 1024}")
        cursor.execute(f"PRAGMA mmap_size={int(settings.sqlite_mmap_mib) * 1024 * 1024}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_database(settings: Settings) -> Database:
    """Build the engine for the configured URL, with the dialect's specifics installed."""
    kwargs: dict[str, Any] = {}
    if not settings.is_sqlite:
        kwargs.update(pool_size=settings.database_pool_size, pool_pre_ping=True)
    engine = create_async_engine(settings.database_url, **kwargs)
    if settings.is_sqlite:
        _install_sqlite_hooks(engine, settings)
    write_engine = engine.execution_options(**{WRITE_OPTION: True})
    # The search index follows every flush of user rows (see carebook.search.index).
    search_index.install(Session)
    return Database(
        engine=engine,
        read_sessions=async_sessionmaker(engine, expire_on_commit=False),
        write_sessions=async_sessionmaker(write_engine, expire_on_commit=False),
    )
