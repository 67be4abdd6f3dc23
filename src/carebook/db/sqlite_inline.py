"""SQLite connections for SQLAlchemy's ``sqlite+aiosqlite`` dialect, with fewer thread hand-offs.

aiosqlite runs every call on a helper thread, and SQLAlchemy's adapter makes four calls per
statement (cursor, execute, fetchall, close): four round trips between threads, measured at
0.1-0.5 ms of CPU per statement on this project's 2-core machines, against ~20 us for the
statement itself. A single-patient read was mostly hand-offs.

The connections here speak the subset of aiosqlite's API that the adapter uses and are handed to
it through ``create_async_engine(async_creator=...)``. Cursors are created and closed without a
hand-off. Two ways to run a call:

- ``inline``: on the event loop's own thread, for read sessions. Reads in WAL mode never wait for
  a lock (a reader keeps its snapshot while a writer works), so they cannot stall the loop on a
  lock; a long read (a wide search) holds the loop for its duration, which a CPU-bound server
  spends anyway. These connections are ``query_only`` (set by the engine's connect hook), so a
  write attempted through a read session fails at once instead of waiting on the loop thread.
- ``threaded``: on a worker thread, one hand-off per statement (it executes and fetches in the
  same call), for writes: ``BEGIN IMMEDIATE`` may wait up to the busy timeout for another
  writer, and that wait must not block the loop. It waits by polling the lock
  (carebook.db.lock_wait) rather than in SQLite's busy handler, whose sleeps grow to 100 ms.
  Given a ``WriteGate`` (carebook.db.write_gate), a connection first waits for its process's
  turn, on the loop, and holds it until its transaction ends: only other processes are polled.

  Once its ``BEGIN IMMEDIATE`` holds the write lock, a threaded connection runs the statements
  of that transaction inline, on the loop's thread: no statement of a transaction that holds
  the lock can wait for another writer (WAL readers never block it), so the hand-offs bought
  nothing there, and they were most of a write's time with the lock held (a ``createClient``
  sent 17 statements, each a round trip between threads, while every other writer of the file
  waited). The ``BEGIN IMMEDIATE`` itself is tried inline when the process's turn is free and
  goes to the thread (polling) only when another process holds the lock; the ``COMMIT`` (its
  fsync with ``synchronous=FULL``, and any checkpoint) always runs on the thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from time import monotonic
from typing import Any, TypeVar

from carebook.db.group_commit import Group, GroupCommit, joins_group
from carebook.db.lock_wait import is_locked, poll_while_locked
from carebook.db.write_gate import Turn, WriteGate

T = TypeVar("T")


class _Inline:
    """Runs each call at once on the calling thread (the event loop's)."""

    async def run(self, call: Callable[[], T]) -> T:
        return call()

    def submit(self, call: Callable[[], object]) -> None:
        call()

    def shutdown(self) -> None:
        pass


class _OwnThread:
    """Runs a connection's calls one after another on the connection's own thread.

    One thread per connection, as aiosqlite does: when a request is cancelled while its
    statement runs, the connection's next call (its rollback, another request's statement)
    queues behind it instead of running on the same sqlite3 connection at the same time.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="carebook-sqlite")
        # The last call handed to the thread: until it is done, nothing may run inline.
        self._last: Future[Any] | None = None

    async def run(self, call: Callable[[], T]) -> T:
        future = self._last = self._executor.submit(call)
        return await asyncio.wrap_future(future)

    def submit(self, call: Callable[[], object]) -> Future[Any]:
        """Queue ``call`` without waiting for it (it still runs after everything before it)."""
        future = self._last = self._executor.submit(call)
        return future

    def idle(self) -> bool:
        """True when the thread has nothing of this connection's left to run."""
        return self._last is None or self._last.done()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False)


Runner = _Inline | _OwnThread


class SQLiteCursor:
    """An aiosqlite-like cursor.

    Threaded (``eager``): ``execute`` runs the statement and fetches its rows in one hand-off.
    Inline: rows are fetched as asked, so a streamed result (``yield_per``) stays streamed.
    """

    __slots__ = ("_busy_timeout_ms", "_cursor", "_eager", "_owner", "_rows", "_runner")

    def __init__(
        self,
        cursor: sqlite3.Cursor,
        runner: Runner,
        *,
        eager: bool,
        busy_timeout_ms: int = 0,
        owner: SQLiteConnection | None = None,
    ) -> None:
        self._cursor = cursor
        self._runner = runner
        self._eager = eager
        # Set on threaded connections: how long BEGIN IMMEDIATE waits for a busy lock.
        self._busy_timeout_ms = busy_timeout_ms
        # The connection, whose turn at the process's write gate a BEGIN IMMEDIATE takes.
        self._owner = owner
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> SQLiteCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _inline(self) -> bool:
        """Whether this call may run on the loop's thread: its connection's transaction holds
        the write lock and nothing of the connection is left on its thread."""
        owner = self._owner
        return owner is not None and owner.holds_lock()

    def _execute(self, sql: str, parameters: Sequence[Any], deadline: float | None = None) -> None:
        if sql == "BEGIN IMMEDIATE" and self._busy_timeout_ms:
            self._begin_immediate(deadline)
            return
        self._cursor.execute(sql, parameters)
        if self._eager and self._cursor.description:
            self._rows = deque(self._cursor.fetchall())

    def _begin_immediate(self, deadline: float | None) -> None:
        """Take the write lock, polling it while another writer holds it (on this thread), until
        ``deadline`` (``time.monotonic``; None: the busy timeout from now).

        The connection's busy timeout is 0 for the polled statement only: other statements
        (a deferred transaction of a tool that upgrades to a write) keep SQLite's own wait.
        """
        timeout = self._busy_timeout_ms / 1000
        if deadline is not None:
            timeout = max(0.0, deadline - monotonic())
        self._cursor.execute("PRAGMA busy_timeout=0")
        try:
            poll_while_locked(
                lambda: self._cursor.execute("BEGIN IMMEDIATE"),
                timeout=timeout,
                errors=sqlite3.OperationalError,
            )
        finally:
            self._cursor.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> SQLiteCursor:
        if sql == "BEGIN IMMEDIATE" and self._owner is not None and self._busy_timeout_ms:
            if self._owner.grouped() and joins_group():
                await self._owner.join_group(self._busy_timeout_ms / 1000)
            else:
                await self._begin_in_turn(self._owner)
            return self
        if self._inline():
            self._execute(sql, parameters)
            return self
        if self._owner is not None and await self._owner.ready_in_group():
            self._execute(sql, parameters)  # inline: the member holds the group's transaction
            return self
        await self._runner.run(lambda: self._execute(sql, parameters))
        return self

    async def _begin_in_turn(self, owner: SQLiteConnection) -> None:
        """BEGIN IMMEDIATE once the process's earlier writers are done; the turn is held until
        the transaction ends (the connection's commit, rollback or close), or given up here if
        the BEGIN fails. One budget, the busy timeout, covers both waits."""
        deadline = monotonic() + self._busy_timeout_ms / 1000
        await owner.take_turn(self._busy_timeout_ms / 1000)
        try:
            if not (owner.thread_idle() and self._begin_at_once()):
                await self._runner.run(lambda: self._execute("BEGIN IMMEDIATE", (), deadline))
        except BaseException:
            owner.end_turn()
            raise
        owner.lock_taken()

    def _begin_at_once(self) -> bool:
        """BEGIN IMMEDIATE on this (the loop's) thread if the write lock is free; False, having
        changed nothing, when another process holds it (the thread then polls for it)."""
        self._cursor.execute("PRAGMA busy_timeout=0")
        try:
            self._cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not is_locked(error):
                raise
            return False
        finally:
            self._cursor.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
        return True

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> SQLiteCursor:
        rows = list(parameters)
        if self._inline() or (self._owner is not None and await self._owner.ready_in_group()):
            self._cursor.executemany(sql, rows)
            return self
        await self._runner.run(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        if not self._eager:
            return self._cursor.fetchone()
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = size if size is not None else self._cursor.arraysize
        if not self._eager:
            return self._cursor.fetchmany(count)
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        if not self._eager:
            return self._cursor.fetchall()
        taken, self._rows = list(self._rows), deque()
        return taken

    async def close(self) -> None:
        if self._inline():
            self._cursor.close()
            return
        self._runner.submit(self._cursor.close)

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _ImmediateQueue:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's adapter uses directly to set
    ``isolation_level``; the call only sets an attribute, so it runs at once, on this thread."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as error:  # handed to the awaiting adapter, as aiosqlite would
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


class SQLiteConnection:
    """An aiosqlite-like connection whose calls go through its runner (inline or own thread)."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        runner: Runner,
        *,
        eager: bool,
        busy_timeout_ms: int = 0,
        gate: WriteGate | None = None,
        group_commit: GroupCommit | None = None,
    ) -> None:
        self._conn = connection
        self._runner = runner
        self._eager = eager
        self._busy_timeout_ms = busy_timeout_ms
        self._gate = gate
        self._turn: Turn | None = None  # held from BEGIN IMMEDIATE to the transaction's end
        # True from a BEGIN IMMEDIATE that took the write lock until the transaction ends: its
        # statements then run inline (see the module's docstring).
        self._holds_lock = False
        # SQLAlchemy's adapter tests this attribute to know the connection is open.
        self._connection: sqlite3.Connection | None = connection
        self._tx = _ImmediateQueue()
        # With group commit (carebook.db.group_commit), a write transaction runs in a savepoint
        # of its process's shared transaction: the group it joined, from BEGIN IMMEDIATE to its
        # COMMIT or ROLLBACK; its statements then go to the group's connection.
        self._group_commit = group_commit
        self._group: Group | None = None

    def cursor(self) -> SQLiteCursor:
        group = self._group
        if group is not None:
            return SQLiteCursor(
                group.connection.cursor(),
                group.runner,
                eager=self._eager,
                busy_timeout_ms=self._busy_timeout_ms,
                owner=self,
            )
        return SQLiteCursor(
            self._conn.cursor(),
            self._runner,
            eager=self._eager,
            busy_timeout_ms=self._busy_timeout_ms,
            owner=self if self._gate is not None else None,
        )

    def grouped(self) -> bool:
        """True when this connection's write transactions join its process's group."""
        return self._group_commit is not None

    async def join_group(self, wait_seconds: float) -> None:
        """BEGIN IMMEDIATE with group commit: a savepoint in the process's shared
        transaction (carebook.db.group_commit), once the earlier members are done."""
        assert self._group_commit is not None
        group = self._group_commit.group()
        await group.join(self, wait_seconds)
        self._group = group

    async def ready_in_group(self) -> bool:
        """False outside a group; in one, True once this member's statement may run inline
        (raises if the group's transaction is gone: never a statement in autocommit)."""
        if self._group is None:
            return False
        await self._group.ready(self)
        return True

    def _leave_group(self) -> Group | None:
        group, self._group = self._group, None
        return group

    async def take_turn(self, wait_seconds: float) -> None:
        """Wait for the process's write gate (a no-op without one, or with a turn held)."""
        if self._gate is not None and self._turn is None:
            self._turn = await self._gate.enter(wait_seconds)

    def end_turn(self) -> None:
        """Let the process's next writer go."""
        self._holds_lock = False
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.end()

    def thread_idle(self) -> bool:
        """True when nothing of this connection is queued or running on its thread."""
        return not isinstance(self._runner, _OwnThread) or self._runner.idle()

    def lock_taken(self) -> None:
        """The transaction's BEGIN IMMEDIATE holds the write lock: inline from now on."""
        self._holds_lock = self._gate is not None and self._turn is not None

    def holds_lock(self) -> bool:
        """True while this connection's transaction holds the write lock and its thread is idle
        (a call still queued there runs first, never beside an inline one)."""
        if self._group is not None:
            return self._group.holds(self)
        return self._holds_lock and self.thread_idle()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def commit(self) -> None:
        group = self._leave_group()
        if group is not None:  # released into the group; returns once the group committed
            await group.release(self)
            return
        # On the thread: the commit syncs the log (synchronous=FULL) and may checkpoint. Nothing
        # runs inline from here, so a call after a cancelled commit queues behind it.
        self._holds_lock = False
        try:
            await self._runner.run(self._conn.commit)
        finally:
            self.end_turn()

    async def rollback(self) -> None:
        group = self._leave_group()
        if group is not None:  # returns once the earlier members' commit is known
            await group.rollback(self)
            return
        self._holds_lock = False
        try:
            await self._runner.run(self._conn.rollback)
        finally:
            self.end_turn()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)
        if self._group_commit is not None:
            self._group_commit.add_function(args, kwargs)

    async def close(self) -> None:
        group = self._leave_group()
        if group is not None:
            group.abandon(self)
        self._holds_lock = False
        if self._connection is not None:
            self._connection = None
            try:
                await self._runner.run(self._conn.close)
            finally:
                self.end_turn()
                self._runner.shutdown()

    def stop(self) -> None:
        """Close without waiting (SQLAlchemy's forced termination), after any running call."""
        group = self._leave_group()
        if group is not None:
            group.abandon(self)
        self._holds_lock = False
        if self._connection is not None:
            self._connection = None
            self._runner.submit(self._conn.close)
            self._runner.shutdown()
        self.end_turn()


def _connect(path: str) -> sqlite3.Connection:
    # Transactions are begun by the engine's "begin" hook. A threaded connection is created on
    # its own thread and used there; only cursor objects are made on the loop thread (no SQLite
    # call, under the GIL).
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


def inline_creator(path: str) -> Callable[[], Awaitable[SQLiteConnection]]:
    """An ``async_creator``: connections to ``path`` that run on the calling (loop) thread."""

    async def create() -> SQLiteConnection:
        return SQLiteConnection(_connect(path), _Inline(), eager=False)

    return create


def threaded_creator(
    path: str,
    *,
    busy_timeout_ms: int,
    gate: WriteGate | None = None,
    group_commit: GroupCommit | None = None,
) -> Callable[[], Awaitable[SQLiteConnection]]:
    """An ``async_creator``: connections to ``path``, each running on a thread of its own.

    ``busy_timeout_ms`` must be the busy timeout the engine sets on them: their BEGIN IMMEDIATE
    waits that long (for ``gate``, then polling the lock), then restores it.
    """

    async def create() -> SQLiteConnection:
        runner = _OwnThread()
        connection = await runner.run(lambda: _connect(path))
        return SQLiteConnection(
            connection,
            runner,
            eager=True,
            busy_timeout_ms=busy_timeout_ms,
            gate=gate,
            group_commit=group_commit,
        )

    return create
