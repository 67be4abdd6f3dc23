"""The read trail's own SQLite connection (carebook.db.sqlite_batches).

A batch runs on the loop's thread when the write lock is free, goes to a worker thread (which
polls the lock) when another writer holds it, gives up after its deadline having written nothing,
never runs on the loop when commits wait for an fsync, and keeps the WAL short with its own
PASSIVE checkpoints.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from tests.support.sqlite_locks import write_lock_held

from carebook.db.sqlite_batches import SQLiteBatches, Statements, Work


def _engine(path: Path) -> Engine:
    """An engine like the trail's: its connections take no implicit transactions, busy timeout 0."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(connection: sqlite3.Connection, _: object) -> None:
        connection.isolation_level = None
        connection.execute("PRAGMA busy_timeout=0")

    return engine


def _new_database(file: Path) -> Path:
    setup = sqlite3.connect(file, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE numbers (n INTEGER, thread INTEGER)")
    setup.close()
    return file


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return _new_database(tmp_path / "batches.db")


@pytest.fixture
async def batches(path: Path) -> AsyncIterator[SQLiteBatches]:
    made = SQLiteBatches(_engine(path), synchronous="NORMAL")
    yield made
    await made.close()
    made.engine.dispose()


def _insert(n: int) -> Work:
    """A batch storing ``n`` and the thread it ran on."""

    def work(statements: Statements) -> None:
        statements.execute("INSERT INTO numbers VALUES (?, ?)", (n, threading.get_ident()))

    return work


def _stored(path: Path) -> list[tuple[int, int]]:
    with closing(sqlite3.connect(path)) as reader:
        return reader.execute("SELECT n, thread FROM numbers ORDER BY rowid").fetchall()


async def test_a_batch_runs_on_the_loop_thread_when_the_lock_is_free(
    batches: SQLiteBatches, path: Path
) -> None:
    await batches.run(_insert(1), lock_wait_seconds=1)
    assert _stored(path) == [(1, threading.get_ident())]


async def test_a_busy_lock_sends_the_batch_to_a_thread_and_the_loop_keeps_running(
    batches: SQLiteBatches, path: Path
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.create_task(ticker())
    async with write_lock_held(path, 0.3):
        started = time.monotonic()
        await batches.run(_insert(2), lock_wait_seconds=5)
        waited = time.monotonic() - started
    running.cancel()
    [(n, thread)] = _stored(path)
    assert n == 2 and thread != threading.get_ident()  # stored, from a worker thread
    assert waited >= 0.2  # it did wait for the other writer
    assert ticks >= 10  # meanwhile the loop served others


async def test_a_batch_gives_up_after_its_deadline_and_writes_nothing(
    batches: SQLiteBatches, path: Path
) -> None:
    async with write_lock_held(path, 0.6):
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await batches.run(_insert(3), lock_wait_seconds=0.1)
    assert _stored(path) == []
    await batches.run(_insert(4), lock_wait_seconds=1)
    assert [n for n, _ in _stored(path)] == [4]


async def test_a_failing_batch_is_rolled_back_whole(batches: SQLiteBatches, path: Path) -> None:
    def half_then_fail(statements: Statements) -> None:
        statements.execute("INSERT INTO numbers VALUES (5, 0)")
        statements.execute("INSERT INTO no_such_table VALUES (6)")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await batches.run(half_then_fail, lock_wait_seconds=1)
    await batches.run(_insert(7), lock_wait_seconds=1)
    assert [n for n, _ in _stored(path)] == [7]


async def test_commits_that_wait_for_an_fsync_never_run_on_the_loop(path: Path) -> None:
    full = SQLiteBatches(_engine(path), synchronous="FULL")
    try:
        await full.run(_insert(8), lock_wait_seconds=1)
    finally:
        await full.close()
        full.engine.dispose()
    [(n, thread)] = _stored(path)
    assert n == 8 and thread != threading.get_ident()


async def _wal_after_batches(path: Path, checkpoint_every: int) -> tuple[int, int]:
    """The WAL's size after 200 batches of 50 rows, and how many checkpoints ran."""
    batches = SQLiteBatches(_engine(path), synchronous="NORMAL", checkpoint_every=checkpoint_every)
    rows = [(n, 0) for n in range(50)]
    try:
        for _ in range(200):
            await batches.run(
                lambda s: s.executemany("INSERT INTO numbers VALUES (?, ?)", rows),
                lock_wait_seconds=1,
            )
            # close() waits for a checkpoint the batch started (the next batch takes the
            # connection back). Without the wait, how much a checkpoint copied before the next
            # commit depended on the machine's speed: a PASSIVE checkpoint that overlaps a commit
            # leaves frames behind, the WAL does not restart, and the test failed one run in five.
            await batches.close()
        # Measured while the connection is open (the last one to close removes the WAL).
        wal = await asyncio.to_thread(lambda: Path(f"{path}-wal").stat().st_size)
        return wal, batches.checkpoints
    finally:
        await batches.close()
        batches.engine.dispose()


async def test_its_own_checkpoints_keep_the_wal_short(path: Path, tmp_path: Path) -> None:
    other = _new_database(tmp_path / "unchecked.db")
    checked, checkpoints = await _wal_after_batches(path, checkpoint_every=5)
    # The same batches without checkpoints: its commits never checkpoint on their own.
    unchecked, none = await _wal_after_batches(other, checkpoint_every=10**9)
    # Every 5th of the 200 batches started one, and each finished before the next batch.
    assert checkpoints == 40 and none == 0
    assert checked * 5 < unchecked, (checked, unchecked)


async def test_observers_see_the_statements_sent_until_they_stop(batches: SQLiteBatches) -> None:
    seen: list[str] = []
    stop = batches.observe(seen.append)
    await batches.run(_insert(9), lock_wait_seconds=1)
    stop()
    await batches.run(_insert(10), lock_wait_seconds=1)
    assert seen == ["BEGIN IMMEDIATE", "INSERT INTO numbers VALUES (?, ?)"]


async def test_a_batch_said_to_be_large_runs_on_a_thread(
    batches: SQLiteBatches, path: Path
) -> None:
    await batches.run(_insert(11), lock_wait_seconds=1, small=False)
    [(n, thread)] = _stored(path)
    assert n == 11 and thread != threading.get_ident()
