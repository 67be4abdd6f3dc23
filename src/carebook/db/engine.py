"""Engine and session factory.

SQLite specifics live here and nowhere else:
- WAL journal and a busy timeout so readers never block the single writer;
- ``synchronous=FULL`` by default (``CAREBOOK_SQLITE_SYNCHRONOUS``): in WAL mode NORMAL already
  survives a killed process, but a commit acknowledged just before a power cut or an OS crash
  can vanish; FULL syncs the WAL at every commit, so an acknowledged write is on disk;
- write transactions start with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then
  writes fails with "database is locked" under concurrent writers whatever the busy timeout,
  because SQLite cannot upgrade its read lock while another writer waits;
- on a SQLite file, connections come from ``carebook.db.sqlite_inline`` (one thread hand-off per
  statement instead of aiosqlite's four), and read sessions use a second engine whose
  connections run on the event loop's thread and are ``query_only``; writes stay on worker
  threads, because waiting for the write lock must not block the loop;
- single-row look-ups of the hottest reads run on a connection the process holds
  (carebook.db.row_reads, on PostgreSQL too), without a session;
- a process's writers take turns in order on one ``WriteGate`` (carebook.db.write_gate) before
  asking SQLite for the lock, so they never poll it against each other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from carebook.config import Settings
from carebook.db.held import HeldConnection
from carebook.db.row_reads import PostgresRowReads, RowReads, SQLiteRowReads
from carebook.db.sqlite_batches import SQLiteBatches
from carebook.db.sqlite_inline import inline_creator, threaded_creator
from carebook.db.write_gate import WriteGate
from carebook.search import index as search_index

WRITE_OPTION = "carebook_write"


@dataclass(frozen=True)
class Database:
    """The engines and the two session factories of the application.

    ``engine`` is the one for writes, migrations and tools; ``read_engine`` backs the read
    sessions (the same engine except on a SQLite file, see the module's docstring).
    """

    engine: AsyncEngine
    read_sessions: async_sessionmaker[AsyncSession]
    write_sessions: async_sessionmaker[AsyncSession]
    read_engine: AsyncEngine
    # SQLite file only: the read audit trail's own connection (carebook.db.sqlite_batches), from
    # a synchronous engine with busy timeout 0 and PRAGMA synchronous from
    # CAREBOOK_AUDIT_SQLITE_SYNCHRONOUS.
    audit_batches: SQLiteBatches | None = None
    # PostgreSQL only: the read audit trail's connection (carebook.db.held; the writer runs one
    # batch at a time), synchronous_commit from CAREBOOK_AUDIT_POSTGRES_SYNCHRONOUS_COMMIT.
    postgres_audit: HeldConnection | None = None
    # Single-row reads on a connection the process holds (carebook.db.row_reads), for the
    # hottest look-ups; None for an in-memory SQLite database.
    row_reads: RowReads | None = None

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
        if self.audit_batches is not None:
            await self.audit_batches.close()
            self.audit_batches.engine.dispose()
        if self.postgres_audit is not None:
            await self.postgres_audit.close()
        if self.row_reads is not None:
            await self.row_reads.close()


# How long a SQLite writer waits for another one (the lock is held for a transaction's length).
BUSY_TIMEOUT_MS = 10_000


def _install_sqlite_hooks(
    sync_engine: Engine,
    settings: Settings,
    *,
    read_only: bool,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    synchronous: str | None = None,
) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the driver so "begin" below decides how to start.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if read_only:
            # Any write through a read session fails at once (it must never wait for the lock
            # on the loop thread). WAL is a property of the file, set by the write engine.
            cursor.execute("PRAGMA query_only=ON")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # The settings are Literals checked by pydantic, so they are safe to splice into the pragma.
        cursor.execute(f"PRAGMA synchronous={synchronous or settings.sqlite_synchronous}")
        # A large page cache and memory-mapped reads: index walks and rowid look-ups of a big
        # practice stay in memory instead of a system call per page.
        cursor.execute(f"PRAGMA cache_size=-{int(settings.sqlite_cache_mib) * 1024}")
        cursor.execute(f"PRAGMA mmap_size={int(settings.sqlite_mmap_mib) * 1024 * 1024}")
        cursor.close()

    if read_only:
        # No BEGIN: each read statement is its own transaction (its own snapshot), as on
        # PostgreSQL's AUTOCOMMIT read sessions; a BEGIN and a ROLLBACK sent around every
        # request's reads cost more than a single-record SELECT.
        return

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# A pooled connection idle this long is pinged before use (see _install_idle_ping).
PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN = "carebook_checked_in"


def _install_idle_ping(sync_engine: Engine) -> None:
    """Ping a pooled PostgreSQL connection before use only when it sat idle.

    ``pool_pre_ping`` pings at every checkout, and asyncpg's ping is three round trips (BEGIN, a
    query, ROLLBACK): more than a single-patient read itself. A connection handed back less than a
    second ago is alive unless the server restarted in that second; then the statement fails,
    SQLAlchemy discards the pool's older connections, and the next request gets fresh ones.
    This is SQLAlchemy's documented "pessimistic" checkout recipe, with an idle threshold.
    """

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        returned = record.info.get(_CHECKED_IN)
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return  # new (just connected) or in steady use
        try:
            dbapi_conn.ping()
        except Exception as error:  # the pool replaces the connection and tries again
            raise DisconnectionError() from error


def create_database(settings: Settings) -> Database:
    """Build the engine for the configured URL, with the dialect's specifics installed."""
    kwargs: dict[str, Any] = {}
    if not settings.is_sqlite:
        kwargs.update(pool_size=settings.database_pool_size)
    path = _sqlite_file(settings.database_url) if settings.is_sqlite else None
    # A SQLite file's writers in this process (write sessions, read-trail batches) queue on it.
    gate = WriteGate() if path is not None else None
    if path is not None:
        kwargs.update(
            async_creator=threaded_creator(path, busy_timeout_ms=BUSY_TIMEOUT_MS, gate=gate)
        )
    engine = create_async_engine(settings.database_url, **kwargs)
    read_engine, audit_batches = engine, None
    row_reads: RowReads | None = None
    if path is not None:
        read_engine = create_async_engine(settings.database_url, async_creator=inline_creator(path))
        _install_sqlite_hooks(read_engine.sync_engine, settings, read_only=True)
        row_reads_engine = create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False}
        )
        _install_sqlite_hooks(row_reads_engine, settings, read_only=True)
        row_reads = SQLiteRowReads(row_reads_engine)
        # Only a source of connections with the hooks' pragmas: SQLiteBatches begins its own
        # transactions (BEGIN IMMEDIATE) on them.
        audit_engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
        _install_sqlite_hooks(
            audit_engine,
            settings,
            read_only=False,
            busy_timeout_ms=0,  # SQLiteBatches polls the lock itself, off the loop
            synchronous=settings.audit_sqlite_synchronous,
        )
        audit_batches = SQLiteBatches(
            audit_engine, synchronous=settings.audit_sqlite_synchronous, gate=gate
        )
    postgres_audit = None
    if settings.is_sqlite:
        _install_sqlite_hooks(engine.sync_engine, settings, read_only=False)
    else:
        _install_idle_ping(engine.sync_engine)
        postgres_audit = HeldConnection(_postgres_audit_engine(settings))
        row_reads = PostgresRowReads(_postgres_row_reads_engine(settings))
        # Reads without BEGIN and ROLLBACK round trips. Under READ COMMITTED every statement
        # has its own snapshot anyway, so a read session loses nothing (and SQLite's read
        # engine, query_only, proves in the tests that no code writes through one). The pool is
        # shared; the level (client-side for asyncpg) is reset when the connection goes back.
        read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    write_engine = engine.execution_options(**{WRITE_OPTION: True})
    # The search index follows every flush of user rows (see carebook.search.index).
    search_index.install(Session)
    return Database(
        engine=engine,
        read_sessions=async_sessionmaker(read_engine, expire_on_commit=False),
        write_sessions=async_sessionmaker(write_engine, expire_on_commit=False),
        read_engine=read_engine,
        audit_batches=audit_batches,
        postgres_audit=postgres_audit,
        row_reads=row_reads,
    )


def _postgres_audit_engine(settings: Settings) -> AsyncEngine:
    """The read trail's engine: its connections commit with their own synchronous_commit.

    Its own connection (held, carebook.db.held), so the setting never reaches a transaction that
    writes patient data. AUTOCOMMIT: a batch is one INSERT (carebook.audit.bulk), atomic on its
    own, so no BEGIN and COMMIT round trips.
    """
    server_settings = {"synchronous_commit": settings.audit_postgres_synchronous_commit}
    return create_async_engine(
        settings.database_url,
        pool_size=1,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": server_settings},
    )


def _postgres_row_reads_engine(settings: Settings) -> AsyncEngine:
    """The held single-row reads' engine (carebook.db.row_reads): one connection per process,
    AUTOCOMMIT (no transaction left open between reads) and read-only, like SQLite's."""
    return create_async_engine(
        settings.database_url,
        pool_size=1,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": {"default_transaction_read_only": "on"}},
    )


def _sqlite_file(database_url: str) -> str | None:
    """The file of a plain SQLite URL; None for memory databases and URI forms (one engine)."""
    url = make_url(database_url)
    if not url.database or url.database == ":memory:" or url.query:
        return None
    return url.database
