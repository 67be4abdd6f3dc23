"""Connection hooks of the engines: SQLite's pragmas and BEGIN, PostgreSQL's idle ping.

They hold with the fast paths on and off (carebook.db.engine): they are what makes SQLite's
single writer and PostgreSQL's pooled connections behave, not shortcuts.
- WAL journal and a busy timeout so readers never block the single writer;
- ``synchronous=FULL`` by default (``CAREBOOK_SQLITE_SYNCHRONOUS``): in WAL mode NORMAL already
  survives a killed process, but a commit acknowledged just before a power cut or an OS crash
  can vanish; FULL syncs the WAL at every commit, so an acknowledged write is on disk;
- write transactions start with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then
  writes fails with "database is locked" under concurrent writers whatever the busy timeout,
  because SQLite cannot upgrade its read lock while another writer waits.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from carebook.config import Settings

# The execution option of the write sessions' engine: their transactions BEGIN IMMEDIATE.
WRITE_OPTION = "carebook_write"
# The read sessions' option when they share the write engine's connections (fast paths off):
# no BEGIN, so each SELECT sees the latest commit, as on the fast path's read engine and in
# the sqlite3 driver's own default; a tool's session on the bare engine still gets BEGIN.
READ_OPTION = "carebook_read"


# How long a SQLite writer waits for another one (the lock is held for a transaction's length).
BUSY_TIMEOUT_MS = 10_000


def install_sqlite_hooks(
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
        set_sqlite_pragmas(
            dbapi_conn,
            settings,
            read_only=read_only,
            busy_timeout_ms=busy_timeout_ms,
            synchronous=synchronous,
        )

    if read_only:
        # No BEGIN: each read statement is its own transaction (its own snapshot), as on
        # PostgreSQL's AUTOCOMMIT read sessions; a BEGIN and a ROLLBACK sent around every
        # request's reads cost more than a single-record SELECT.
        return

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(READ_OPTION, False):
            return  # each statement its own transaction, as the driver's own default does
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION, False) else "BEGIN")


def set_sqlite_pragmas(
    dbapi_conn: Any,
    settings: Settings,
    *,
    read_only: bool,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    synchronous: str | None = None,
) -> None:
    """The pragmas of every Carebook connection to a SQLite file (an engine's, through its
    connect hook, or a plain ``sqlite3`` one of the fast paths)."""
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


# A pooled connection idle this long is pinged before use (see install_idle_ping).
PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN = "carebook_checked_in"


def install_idle_ping(sync_engine: Engine) -> None:
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
