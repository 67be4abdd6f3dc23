"""The fast paths behind :class:`carebook.db.engine.Database`, built only when they are on.

Each one bought a measured share of a hot request's CPU (docs/performance.md); all of them are
private to carebook.db, and callers reach them only through the Database's verbs:

==================  ===============================================  ===========================
verb                SQLite file                                      PostgreSQL
==================  ===============================================  ===========================
read sessions       own engine, loop-thread connections, query_only  the pool, AUTOCOMMIT
                    (carebook.db.sqlite_inline)
write sessions      worker-thread connections, in turn (write_gate); the pool
                    once BEGIN IMMEDIATE holds the lock, the
                    statements inline and the commit on the thread
                    (sqlite_inline)
single-row read     a held sync connection, prepared statements      a held asyncpg connection,
                    (carebook.db.row_reads, carebook.db.prepared)    prepared statements
trail batch         a held sqlite3 connection, on the loop when the  one unnest INSERT on a held
                    lock is free (sqlite_batches, carebook.db.trail)  AUTOCOMMIT connection (held)
==================  ===============================================  ===========================

With ``CAREBOOK_FAST_PATHS=off`` (or an in-memory SQLite database) none of this exists and every
verb runs through plain SQLAlchemy sessions of the one engine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from carebook.config import Settings
from carebook.db import hooks
from carebook.db.group_commit import GroupCommit
from carebook.db.held import HeldConnection
from carebook.db.observers import Observer
from carebook.db.row_reads import PostgresRowReads, RowReads, SQLiteRowReads
from carebook.db.rows import HeldRow
from carebook.db.sqlite_batches import NO_FSYNC_ON_COMMIT, SQLiteBatches
from carebook.db.sqlite_inline import inline_creator, threaded_creator
from carebook.db.trail import Row, TrailInsert, insert_postgres, insert_sqlite
from carebook.db.write_gate import WriteGate

# The largest SQLite trail batch written on the event loop's thread (about a millisecond of
# inserts into the trail's table and its three indexes); larger ones go to a worker thread.
INLINE_ROWS = 50
# How long a trail batch waits for SQLite's write lock.
TRAIL_LOCK_WAIT_SECONDS = 10.0


@dataclass
class FastPaths:
    """A process's fast paths to one database (see the module's docstring)."""

    read_engine: AsyncEngine
    row_reads: RowReads
    # SQLite file: the trail's own connection; PostgreSQL: its held AUTOCOMMIT connection.
    sqlite_trail: SQLiteBatches | None = None
    postgres_trail: HeldConnection | None = None
    # SQLite file: the group commit of the write sessions' transactions.
    group_commit: GroupCommit | None = None
    # The batch INSERT of each table, built on first use (a per-Database cache).
    _trail_inserts: dict[str, TrailInsert] = field(default_factory=dict)

    async def read_row(
        self, statement: Executable, parameters: Mapping[str, Any]
    ) -> HeldRow | None:
        """The statement's first row, on the held read connection."""
        return await self.row_reads.first(statement, parameters)

    async def trail_batch(self, table: Table, rows: Sequence[Row]) -> None:
        """Append ``rows`` to ``table`` as one statement on the trail's own connection."""
        statement = self._trail_insert(table)
        if self.postgres_trail is not None:
            await insert_postgres(self.postgres_trail, statement, rows)
            return
        assert self.sqlite_trail is not None
        await self.sqlite_trail.run(
            lambda statements: insert_sqlite(statements, statement, rows),
            lock_wait_seconds=TRAIL_LOCK_WAIT_SECONDS,
            small=len(rows) <= INLINE_ROWS,
        )

    def engines(self) -> list[Engine]:
        """The engines of the held connections (the read engine is the Database's)."""
        found = [_sync(self.row_reads.engine)]
        if self.postgres_trail is not None:
            found.append(self.postgres_trail.engine.sync_engine)
        if self.sqlite_trail is not None:
            found.append(self.sqlite_trail.engine)
        return found

    def observe(self, observer: Observer) -> list[Callable[[], None]]:
        """Tell ``observer`` every statement sent straight to a driver (no engine event sees
        those); returns the ways to stop."""
        owners: list[Any] = [self.row_reads, self.sqlite_trail, self.postgres_trail]
        return [owner.observe(observer) for owner in owners if owner is not None]

    async def close(self) -> None:
        """Close the held connections and their engines (the read engine is disposed by the
        Database)."""
        if self.sqlite_trail is not None:
            await self.sqlite_trail.close()
            self.sqlite_trail.engine.dispose()
        if self.postgres_trail is not None:
            await self.postgres_trail.close()
        if self.group_commit is not None:
            await self.group_commit.close()
        await self.row_reads.close()

    def _trail_insert(self, table: Table) -> TrailInsert:
        statement = self._trail_inserts.get(table.name)
        if statement is None:
            statement = TrailInsert(table, self.read_engine.dialect)
            self._trail_inserts[table.name] = statement
        return statement


def _sync(engine: Engine | AsyncEngine) -> Engine:
    return engine.sync_engine if isinstance(engine, AsyncEngine) else engine


def sqlite_paths(
    settings: Settings, path: str, gate: WriteGate, group_commit: GroupCommit | None = None
) -> FastPaths:
    """A SQLite file's read engine, held read connection and trail connection.

    Read sessions use their own engine whose connections run on the event loop's thread and are
    ``query_only`` (a read in WAL mode never waits for a lock); writes stay on worker threads,
    because waiting for the write lock must not block the loop.
    """
    read_engine = create_async_engine(settings.database_url, async_creator=inline_creator(path))
    hooks.install_sqlite_hooks(read_engine.sync_engine, settings, read_only=True)
    row_reads_engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    hooks.install_sqlite_hooks(row_reads_engine, settings, read_only=True)
    # Only a source of connections with the hooks' pragmas: SQLiteBatches begins its own
    # transactions (BEGIN IMMEDIATE) on them.
    trail_engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    hooks.install_sqlite_hooks(
        trail_engine,
        settings,
        read_only=False,
        busy_timeout_ms=0,  # SQLiteBatches polls the lock itself, off the loop
        synchronous=settings.audit_sqlite_synchronous,
    )
    return FastPaths(
        read_engine=read_engine,
        row_reads=SQLiteRowReads(row_reads_engine),
        sqlite_trail=SQLiteBatches(
            trail_engine, synchronous=settings.audit_sqlite_synchronous, gate=gate
        ),
        group_commit=group_commit,
    )


def sqlite_write_creator(path: str, gate: WriteGate, group_commit: GroupCommit) -> Any:
    """The write engine's ``async_creator``: a thread per connection, one hand-off per
    statement; write transactions (BEGIN IMMEDIATE) join the process's group commit."""
    return threaded_creator(
        path, busy_timeout_ms=hooks.BUSY_TIMEOUT_MS, gate=gate, group_commit=group_commit
    )


def sqlite_group_commit(settings: Settings, path: str, gate: WriteGate) -> GroupCommit:
    """The group commit of a SQLite file's write transactions (carebook.db.group_commit), on
    a connection of its own per event loop with the write engine's pragmas (the group polls
    for the lock itself, off the loop, as a lone write transaction does)."""

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        hooks.set_sqlite_pragmas(connection, settings, read_only=False)
        return connection

    return GroupCommit(
        connect,
        gate,
        busy_timeout_ms=hooks.BUSY_TIMEOUT_MS,
        inline_commit=settings.sqlite_synchronous.upper() in NO_FSYNC_ON_COMMIT,
    )


def postgres_paths(settings: Settings, engine: AsyncEngine) -> FastPaths:
    """PostgreSQL's AUTOCOMMIT read sessions, held read connection and trail connection.

    Reads without BEGIN and ROLLBACK round trips: under READ COMMITTED every statement has its
    own snapshot anyway, so a read session loses nothing (and SQLite's read engine, query_only,
    proves in the tests that no code writes through one). The pool is shared; the level
    (client-side for asyncpg) is reset when the connection goes back.
    """
    return FastPaths(
        read_engine=engine.execution_options(isolation_level="AUTOCOMMIT"),
        row_reads=PostgresRowReads(_postgres_row_reads_engine(settings)),
        postgres_trail=HeldConnection(_postgres_trail_engine(settings)),
    )


def _postgres_trail_engine(settings: Settings) -> AsyncEngine:
    """The read trail's engine: its connections commit with their own synchronous_commit.

    Its own connection (held, carebook.db.held), so the setting never reaches a transaction that
    writes patient data. AUTOCOMMIT: a batch is one INSERT (carebook.db.trail), atomic on its
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
