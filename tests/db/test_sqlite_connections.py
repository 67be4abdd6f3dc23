"""The SQLite connections of carebook.db.sqlite_inline and the audit trail's own engine.

Read sessions run on the loop thread and must never write (or wait for the write lock there);
write sessions keep working from threads; a streamed result stays streamed; write sessions poll a
busy lock instead of failing (or sleeping in SQLite's busy handler), and give up after their
deadline; a process's own writers (and the trail's batches) take turns instead of polling each
other. The trail's batches: tests/db/test_sqlite_batches.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from tests.support.sqlite_locks import write_lock_held, write_lock_held_until

from carebook.config import Settings
from carebook.db import lock_wait
from carebook.db.engine import Database, create_database
from carebook.db.hooks import BUSY_TIMEOUT_MS
from carebook.db.migrate import upgrade
from carebook.db.sqlite_batches import Statements
from carebook.db.sqlite_inline import threaded_creator


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    path = tmp_path / "connections.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def _fast(path: Path) -> Settings:
    """A SQLite file's settings with the fast paths on (whatever CAREBOOK_FAST_PATHS says)."""
    return Settings(database_url=f"sqlite+aiosqlite:///{path}", fast_paths=True)


@pytest.fixture
async def db(sqlite_path: Path) -> AsyncIterator[Database]:
    database = create_database(_fast(sqlite_path))
    yield database
    await database.dispose()


async def _create_table(db: Database, rows: int) -> None:
    async with db.write_sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE numbers (n INTEGER PRIMARY KEY)"))
        if rows:
            await session.execute(
                text("INSERT INTO numbers (n) VALUES (:n)"), [{"n": n} for n in range(rows)]
            )


async def test_reads_and_writes_use_separate_engines_and_writes_are_seen(db: Database) -> None:
    assert db.read_engine is not db.engine
    await _create_table(db, 3)
    async with db.read_sessions() as session:
        total = (await session.execute(text("SELECT sum(n) FROM numbers"))).scalar_one()
    assert total == 0 + 1 + 2
    async with db.write_sessions() as session, session.begin():
        result = await session.execute(text("INSERT INTO numbers (n) VALUES (10) RETURNING n"))
        assert result.scalar_one() == 10
    async with db.read_sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM numbers"))).scalar_one() == 4


async def test_a_read_session_cannot_write(db: Database, sqlite_path: Path) -> None:
    await _create_table(db, 1)
    refused = threading.Event()
    # Refused while another writer holds the lock: it never waited for the write lock on the
    # loop thread (a wait would have ended in "database is locked", not "readonly").
    async with write_lock_held_until(sqlite_path, refused):
        try:
            async with db.read_sessions() as session:
                with pytest.raises(OperationalError, match="readonly"):
                    await session.execute(text("INSERT INTO numbers (n) VALUES (99)"))
        finally:
            refused.set()
    async with db.read_sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM numbers"))).scalar_one() == 1


async def test_a_streamed_read_returns_every_row_in_order(db: Database) -> None:
    await _create_table(db, 2_500)
    seen: list[int] = []
    async with db.read_sessions() as session:
        query = text("SELECT n FROM numbers ORDER BY n").execution_options(yield_per=100)
        result = await session.stream_scalars(query)
        async for n in result:
            seen.append(n)
    assert seen == list(range(2_500))


async def test_the_audit_engine_has_its_own_synchronous_setting(sqlite_path: Path) -> None:
    database = create_database(
        Settings(
            database_url=f"sqlite+aiosqlite:///{sqlite_path}",
            fast_paths=True,
            sqlite_synchronous="FULL",
            audit_sqlite_synchronous="NORMAL",
        )
    )
    try:
        assert database.paths is not None and database.paths.sqlite_trail is not None
        with database.paths.sqlite_trail.engine.connect() as connection:
            audit_level = connection.exec_driver_sql("PRAGMA synchronous").scalar_one()
        async with database.write_sessions() as session:
            write_level = (await session.execute(text("PRAGMA synchronous"))).scalar_one()
    finally:
        await database.dispose()
    assert (audit_level, write_level) == (1, 2)  # NORMAL, FULL


async def test_a_memory_database_keeps_one_engine() -> None:
    database = create_database(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    try:
        assert database.read_engine.sync_engine.pool is database.engine.sync_engine.pool
        assert database.paths is None
    finally:
        await database.dispose()


def _record_polling(
    monkeypatch: pytest.MonkeyPatch, polled: threading.Event | None = None, times: int = 0
) -> list[float]:
    """The sleeps of carebook.db.lock_wait between tries of a busy lock, from now on; sets
    ``polled`` once there have been ``times`` of them."""
    sleeps: list[float] = []
    real_sleep = time.sleep

    def recording_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if polled is not None and len(sleeps) >= times:
            polled.set()
        real_sleep(seconds)

    monkeypatch.setattr(lock_wait, "sleep", recording_sleep)
    return sleeps


# Tries of the busy lock before its holder lets go: proof of polling whatever the machine's speed.
POLLS = 20


async def test_a_write_session_polls_a_busy_lock_then_commits(
    db: Database, sqlite_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _create_table(db, 0)
    polled = threading.Event()
    sleeps = _record_polling(monkeypatch, polled, POLLS)
    async with (
        write_lock_held_until(sqlite_path, polled),
        db.write_sessions() as session,
        session.begin(),
    ):
        await session.execute(text("INSERT INTO numbers (n) VALUES (778)"))
        # The connection's own busy timeout is back once the lock is taken.
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar_one() == BUSY_TIMEOUT_MS
    # It waited by polling in short steps, not in SQLite's busy handler (sleeps up to 100 ms):
    # the holder let go only once the writer had tried the lock POLLS times.
    assert polled.is_set() and len(sleeps) >= POLLS
    assert max(sleeps) <= lock_wait.MAX_DELAY
    async with db.read_sessions() as session:
        count = await session.execute(text("SELECT count(*) FROM numbers WHERE n = 778"))
        assert count.scalar_one() == 1


async def test_a_process_writers_take_turns_without_polling(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _create_table(db, 0)
    sleeps = _record_polling(monkeypatch)

    async def write(n: int) -> None:
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.02)  # the transaction holds the lock across loop turns

    await asyncio.gather(*(write(n) for n in range(5)))
    assert sleeps == []  # each one waited for its turn, none polled the lock
    async with db.read_sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM numbers"))).scalar_one() == 5


async def test_a_failed_begin_gives_its_turn_back(
    db: Database, sqlite_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _create_table(db, 0)
    monkeypatch.setattr("carebook.db.hooks.BUSY_TIMEOUT_MS", 100)
    short = create_database(_fast(sqlite_path))
    try:
        async with write_lock_held(sqlite_path, 0.5):
            with pytest.raises(OperationalError, match="locked"):
                async with short.write_sessions() as session, session.begin():
                    await session.execute(text("INSERT INTO numbers (n) VALUES (1)"))
        # Had the turn stayed with the failed writer, this one would wait for it in vain.
        async with short.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (2)"))
    finally:
        await short.dispose()
    async with db.read_sessions() as session:
        rows = (await session.execute(text("SELECT n FROM numbers"))).scalars().all()
    assert rows == [2]


async def test_a_trail_batch_waits_for_the_process_writer_without_polling(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _create_table(db, 0)
    assert db.paths is not None and db.paths.sqlite_trail is not None
    trail = db.paths.sqlite_trail
    sleeps = _record_polling(monkeypatch)
    async with db.write_sessions() as session, session.begin():
        await session.execute(text("INSERT INTO numbers (n) VALUES (1)"))

        def insert(statements: Statements) -> None:
            statements.execute("INSERT INTO numbers (n) VALUES (2)")

        batch = asyncio.ensure_future(trail.run(insert, lock_wait_seconds=5))
        await asyncio.sleep(0.05)
        assert not batch.done()  # queued behind the open transaction
    await asyncio.wait_for(batch, 2)
    assert sleeps == []
    async with db.read_sessions() as session:
        rows = (await session.execute(text("SELECT n FROM numbers ORDER BY n"))).scalars().all()
    assert rows == [1, 2]


async def test_a_write_connection_gives_up_after_its_busy_timeout(sqlite_path: Path) -> None:
    connection = await threaded_creator(str(sqlite_path), busy_timeout_ms=100)()
    try:
        async with write_lock_held(sqlite_path, 0.6):
            cursor = connection.cursor()
            await cursor.execute("PRAGMA busy_timeout=100")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await cursor.execute("BEGIN IMMEDIATE")
            await cursor.execute("PRAGMA busy_timeout")
            assert await cursor.fetchall() == [(100,)]
    finally:
        await connection.close()


async def _thread_names(
    db: Database, sqlite_path: Path, *, polled: threading.Event | None = None
) -> list[str]:
    """The threads that ran two statements of a write transaction (``polled``: another
    connection holds the lock until the writer has polled it)."""
    await _create_table(db, 0)
    seen: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        if polled is not None:
            await stack.enter_async_context(write_lock_held_until(sqlite_path, polled))
        async with db.write_sessions() as session, session.begin():
            connection = await session.connection()
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            await raw.create_function("thread_of", 0, lambda: threading.current_thread().name)
            seen.append((await session.execute(text("SELECT thread_of()"))).scalar_one())
            await session.execute(text("INSERT INTO numbers (n) VALUES (1)"))
            await session.execute(text("INSERT INTO numbers (n) VALUES (2)"))
            seen.append((await session.execute(text("SELECT thread_of()"))).scalar_one())
    return seen


async def test_a_write_transaction_runs_its_statements_on_the_loop_once_it_holds_the_lock(
    db: Database, sqlite_path: Path
) -> None:
    # No statement of a transaction that holds the write lock can wait for a lock, so each one
    # runs at once on the loop's thread instead of a round trip to the connection's thread.
    loop_thread = threading.current_thread().name
    seen = await _thread_names(db, sqlite_path)
    assert seen == [loop_thread, loop_thread]
    async with db.read_sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM numbers"))).scalar_one() == 2


async def test_a_write_transaction_that_waited_for_the_lock_also_runs_inline(
    db: Database, sqlite_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.current_thread().name
    polled = threading.Event()
    sleeps = _record_polling(monkeypatch, polled, POLLS)
    seen = await _thread_names(db, sqlite_path, polled=polled)
    assert len(sleeps) >= POLLS  # its BEGIN waited for the other connection, on the thread
    assert seen == [loop_thread, loop_thread]


async def test_a_deferred_transaction_keeps_its_statements_on_the_thread(db: Database) -> None:
    # Without the write lock a statement may wait for one: never on the loop's thread.
    await _create_table(db, 0)
    async with db.stream_sessions() as session, session.begin():
        connection = await session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.create_function("thread_of", 0, lambda: threading.current_thread().name)
        name = (await session.execute(text("SELECT thread_of()"))).scalar_one()
    assert name.startswith("carebook-sqlite")
