"""Group commit of a process's SQLite write transactions (carebook.db.group_commit).

Concurrent write transactions of one process share one COMMIT, each in a savepoint of its own:
a failing one is undone alone, the others are committed; none is told it committed before the
shared COMMIT did, and none is told so when the shared transaction was lost.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from carebook.config import Settings
from carebook.db import group_commit
from carebook.db.engine import Database, create_database, writes_alone
from carebook.db.group_commit import Group
from carebook.db.migrate import upgrade


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    path = tmp_path / "group.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["FULL", "NORMAL"])
async def db(sqlite_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """Groups that commit on their thread (FULL: the commit fsyncs) and on the loop (NORMAL)."""
    path = sqlite_path
    database = create_database(
        Settings(
            database_url=f"sqlite+aiosqlite:///{path}",
            fast_paths=True,
            sqlite_synchronous=request.param,
        )
    )
    async with database.write_sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE numbers (n INTEGER PRIMARY KEY)"))
    yield database
    await database.dispose()


@pytest.fixture(autouse=True)
def groups_wait_for_their_writers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group stays open while writers queue for it, however slow the machine is."""
    monkeypatch.setattr(group_commit, "MAX_OPEN_SECONDS", 60.0)


async def _until_queued(db: Database, count: int = 1) -> None:
    """Wait (loop turns, no clock) until ``count`` other writers of this loop queue for the
    group."""
    assert db.paths is not None and db.paths.group_commit is not None
    group = db.paths.group_commit.group()
    for _ in range(100_000):
        if group._queued >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError("no writer queued")


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per COMMIT of a group, the group's members at that moment."""
    seen: list[int] = []
    original = Group._commit

    def counted(self: Group) -> None:
        seen.append(1)
        original(self)

    monkeypatch.setattr(Group, "_commit", counted)
    return seen


async def _numbers(db: Database) -> list[int]:
    async with db.read_sessions() as session:
        return list((await session.execute(text("SELECT n FROM numbers ORDER BY n"))).scalars())


async def test_concurrent_writers_share_commits_and_each_is_committed(
    db: Database, commits: list[int]
) -> None:
    """The first writer commits only once the seven others queue for its group: all eight
    share one COMMIT (the order is set by events, not by the machine's speed)."""
    first_inside = asyncio.Event()

    async def first() -> None:
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (0)"))
            first_inside.set()
            await _until_queued(db, 7)

    async def write(n: int) -> None:
        await first_inside.wait()
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (:n)"), {"n": n})

    await asyncio.gather(first(), *(write(n) for n in range(1, 8)))
    assert await _numbers(db) == list(range(8))
    assert len(commits) == 1


async def test_a_failing_writer_is_rolled_back_alone(db: Database) -> None:
    async def write(n: int) -> None:
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.005)
            if n == 3:
                raise ValueError("refused")

    results = await asyncio.gather(*(write(n) for n in range(6)), return_exceptions=True)
    assert [isinstance(r, ValueError) for r in results] == [n == 3 for n in range(6)]
    assert await _numbers(db) == [0, 1, 2, 4, 5]


async def test_a_writer_that_breaks_a_unique_key_leaves_the_others_committed(
    db: Database,
) -> None:
    async def write(n: int) -> None:
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (:n)"), {"n": n % 4})
            await asyncio.sleep(0.005)

    results = await asyncio.gather(*(write(n) for n in range(6)), return_exceptions=True)
    failed = [n % 4 for n, r in enumerate(results) if isinstance(r, DBAPIError)]
    # Keys 0 and 1 were written twice: whichever came second lost, alone.
    assert sorted(failed) == [0, 1]
    assert sum(r is None for r in results) == 4
    assert await _numbers(db) == [0, 1, 2, 3]


async def test_no_writer_is_told_it_committed_when_the_group_was_lost(db: Database) -> None:
    """A writer that waits for its group's COMMIT gets an error, not success, when the shared
    transaction ends without it (here a later member ends it with a bare ROLLBACK)."""
    first_inside, first_released = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (1)"))
            first_inside.set()
            await _until_queued(db)  # the breaker joins this group next

    async def breaker() -> None:
        await first_inside.wait()
        async with db.write_sessions() as session, session.begin():
            first_released.set()
            await session.execute(text("INSERT INTO numbers (n) VALUES (2)"))
            await session.execute(text("ROLLBACK"))

    results = await asyncio.gather(first(), breaker(), return_exceptions=True)
    assert first_released.is_set()
    assert all(isinstance(r, Exception) for r in results), results
    assert await _numbers(db) == []
    # The process's writers go on afterwards.
    async with db.write_sessions() as session, session.begin():
        await session.execute(text("INSERT INTO numbers (n) VALUES (3)"))
    assert await _numbers(db) == [3]


async def test_a_commit_returns_only_once_the_rows_are_readable(db: Database) -> None:
    seen: dict[int, list[int]] = {}

    async def write(n: int) -> None:
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.002)
        seen[n] = await _numbers(db)  # another connection: only committed rows

    await asyncio.gather(*(write(n) for n in range(5)))
    # Every writer reads its own row once its commit returned, whichever group it was in (the
    # groups' make-up depends on the loop's scheduling: the test assumed writers joined in
    # order, and failed under load when they did not).
    assert sorted(seen) == list(range(5))
    for n, rows in seen.items():
        assert n in rows, (n, rows)


async def test_a_writer_that_rolls_back_is_answered_only_with_its_groups_outcome(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B rolls back after reading A's released, not yet committed row ("1 is taken"); the
    group's COMMIT then fails: B must not be answered from a row that never existed."""

    def full(self: Group) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Group, "_commit", full)
    a_inside = asyncio.Event()

    async def a() -> None:
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (1)"))
            a_inside.set()
            await _until_queued(db)  # B joins this group next

    async def b() -> None:
        await a_inside.wait()
        async with db.write_sessions() as session, session.begin():
            taken = await session.scalar(text("SELECT count(*) FROM numbers WHERE n = 1"))
            if taken:
                raise ValueError("1 is taken")

    results = await asyncio.gather(a(), b(), return_exceptions=True)
    assert not any(isinstance(r, ValueError) for r in results), results
    assert all(isinstance(r, DBAPIError | sqlite3.OperationalError) for r in results), results
    assert await _numbers(db) == []


async def _until_waiting(db: Database) -> None:
    """Wait (loop turns, no clock) until another writer of this loop waits: for the group's
    slot, or for the process's write turn (the open group holds it)."""
    assert db.paths is not None and db.paths.group_commit is not None
    group = db.paths.group_commit.group()
    loop = asyncio.get_running_loop()
    for _ in range(100_000):
        turn = group._gate._locks.get(loop)
        if group._queued or (turn is not None and turn._waiters):
            return
        await asyncio.sleep(0)
    raise AssertionError("no writer waits")


async def test_a_write_alone_keeps_no_finished_writer_waiting(db: Database) -> None:
    """A slow write (a card capture, a password hash) begun inside writes_alone() runs outside
    the group: the writer that finished before it commits and is answered without waiting for
    it (in the group, this test's slow writer waits for that answer: they would deadlock)."""
    a_inside, a_answered = asyncio.Event(), asyncio.Event()

    async def a() -> None:
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (1)"))
            a_inside.set()
            await _until_waiting(db)  # the slow writer wants in next
        a_answered.set()

    async def slow() -> None:
        await a_inside.wait()
        with writes_alone():
            async with db.write_sessions() as session, session.begin():
                await session.execute(text("INSERT INTO numbers (n) VALUES (2)"))
                await a_answered.wait()  # "slow": still running when a is answered

    # The bound only turns a deadlock (the failure) into a failed test; it is never reached.
    await asyncio.wait_for(asyncio.gather(a(), slow()), 20)
    assert await _numbers(db) == [1, 2]


class _FailingRelease:
    """The group's connection, whose next RELEASE of a member's savepoint fails while the
    transaction stays open (an I/O error SQLite does not roll back on)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self.armed = False

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if self.armed and sql.startswith("RELEASE"):
            self.armed = False
            raise sqlite3.OperationalError("disk I/O error")
        return self._connection.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._connection, name)


async def test_a_failed_release_rolls_the_whole_group_back(db: Database) -> None:
    """B's RELEASE fails with its row still in the shared transaction: B is told it failed, so
    nothing of the group may be committed (A, waiting, gets the error too)."""
    assert db.paths is not None and db.paths.group_commit is not None
    group = db.paths.group_commit.group()
    await group.connect()
    failing = _FailingRelease(group.connection)
    group.connection = failing  # type: ignore[assignment]
    a_inside = asyncio.Event()

    async def a() -> None:
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (1)"))
            a_inside.set()
            await _until_queued(db)  # B joins this group next

    async def b() -> None:
        await a_inside.wait()
        async with db.write_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO numbers (n) VALUES (2)"))
            failing.armed = True

    results = await asyncio.gather(a(), b(), return_exceptions=True)
    assert all(isinstance(r, DBAPIError | sqlite3.OperationalError) for r in results), results
    assert await _numbers(db) == []
    # The next writer starts a clean group (the failed one was rolled back, not joined).
    async with db.write_sessions() as session, session.begin():
        await session.execute(text("INSERT INTO numbers (n) VALUES (3)"))
    assert await _numbers(db) == [3]


async def test_a_groups_connection_is_opened_off_the_loop_and_closed_with_its_loop(
    db: Database,
) -> None:
    """Opening the file may wait (WAL recovery, another process's lock): never on the loop's
    thread. A loop's group does not outlive its loop (one connection and thread per loop)."""
    assert db.paths is not None and db.paths.group_commit is not None
    commit = db.paths.group_commit
    opened_on: list[threading.Thread] = []
    connect = commit._connect

    def recording() -> sqlite3.Connection:
        opened_on.append(threading.current_thread())
        return connect()

    commit._connect = recording

    loops: list[asyncio.AbstractEventLoop] = []
    loop_threads: list[threading.Thread] = []

    async def elsewhere() -> None:
        loops.append(asyncio.get_running_loop())
        loop_threads.append(threading.current_thread())
        await commit.group().connect()

    # Two other loops, one after the other, each closed when asyncio.run returns.
    await asyncio.to_thread(asyncio.run, elsewhere())
    await asyncio.to_thread(asyncio.run, elsewhere())
    assert len(opened_on) == 2
    assert not set(opened_on) & set(loop_threads)  # on the groups' own threads
    # The first loop's group was closed when the next loop made its own.
    assert loops[0] not in commit._groups
    assert len(commit._groups) == 2  # this loop's, and the last loop's until another comes


async def test_dispose_returns_once_each_group_connection_is_closed(sqlite_path: Path) -> None:
    """After dispose, the file may be opened alone (leaving WAL, a restore): a group's connection
    still closing on its thread would hold it ("database is locked", seen in CI when the bench
    generator left WAL right after its setup's database was disposed)."""
    database = create_database(
        Settings(database_url=f"sqlite+aiosqlite:///{sqlite_path}", fast_paths=True)
    )
    async with database.write_sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE numbers (n INTEGER PRIMARY KEY)"))
    assert database.paths is not None and database.paths.group_commit is not None
    group = database.paths.group_commit.group()
    release = threading.Event()
    group.runner.submit(lambda: release.wait(10))  # a call still running on the group's thread
    threading.Timer(0.2, release.set).start()
    await database.dispose()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        group.connection.execute("SELECT 1")
    alone = sqlite3.connect(sqlite_path, isolation_level=None, timeout=0)
    try:
        assert alone.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
    finally:
        alone.close()


def _threads_running(monkeypatch: pytest.MonkeyPatch, method: str) -> list[threading.Thread]:
    """The threads each later call of ``Group.<method>`` runs on, in order."""
    threads: list[threading.Thread] = []
    original = getattr(Group, method)

    def recording(self: Group) -> None:
        threads.append(threading.current_thread())
        original(self)

    monkeypatch.setattr(Group, method, recording)
    return threads


async def test_a_group_commits_on_the_loop_only_when_its_commit_does_not_fsync(
    db: Database, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """With synchronous=NORMAL the COMMIT appends to the WAL without an fsync: it runs on the
    loop's thread at once (no hand-off holding SQLite's lock); with FULL it fsyncs, on the
    group's thread, never blocking the loop."""
    assert db.paths is not None and db.paths.group_commit is not None
    group = db.paths.group_commit.group()
    await group.connect()
    setting = request.node.callspec.params["db"]
    synchronous = group.connection.execute("PRAGMA synchronous").fetchone()[0]
    assert synchronous == {"FULL": 2, "NORMAL": 1}[setting]
    committed_on = _threads_running(monkeypatch, "_commit")
    async with db.write_sessions() as session, session.begin():
        await session.execute(text("INSERT INTO numbers (n) VALUES (1)"))
    assert await _numbers(db) == [1]
    assert len(committed_on) == 1
    assert (committed_on[0] == threading.current_thread()) == (setting == "NORMAL")


async def test_a_group_that_commits_on_the_loop_checkpoints_on_its_thread(
    sqlite_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its connection never checkpoints inside a COMMIT (that fsyncs the database file, on the
    loop); every CHECKPOINT_EVERY commits a PASSIVE checkpoint runs on the group's thread."""
    monkeypatch.setattr(group_commit, "CHECKPOINT_EVERY", 3)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{sqlite_path}",
        fast_paths=True,
        sqlite_synchronous="NORMAL",
    )
    database = create_database(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            await session.execute(text("CREATE TABLE numbers (n INTEGER PRIMARY KEY)"))
        assert database.paths is not None and database.paths.group_commit is not None
        group = database.paths.group_commit.group()
        assert group.connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        checkpointed_on = _threads_running(monkeypatch, "_checkpoint")
        for n in (1, 2):  # with the CREATE: three commits
            async with database.write_sessions() as session, session.begin():
                await session.execute(text("INSERT INTO numbers (n) VALUES (:n)"), {"n": n})
        await group.runner.run(lambda: None)  # the checkpoint queued on the thread is done
        assert len(checkpointed_on) == 1 and checkpointed_on[0] != threading.current_thread()
    finally:
        await database.dispose()
