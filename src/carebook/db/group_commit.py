"""Group commit of a process's SQLite write transactions: one COMMIT (one fsync) for several.

With ``synchronous=FULL`` every commit waits for an fsync of the WAL, and a process's writers
take turns at SQLite's one write lock (carebook.db.write_gate): each write held the lock for its
statements *and* its fsync, so a file served at most one write per fsync, whatever the CPU left.

Here the write transactions of one process (one event loop) share a transaction on one
connection of the process's own, each inside a ``SAVEPOINT`` of its own:

- a write transaction's ``BEGIN IMMEDIATE`` waits for the group's slot (one member at a time,
  in arrival order); the first member of a group takes the process's write turn and SQLite's
  write lock (``BEGIN IMMEDIATE``), every member opens its savepoint;
- its statements run inline, as a lone write transaction's do (carebook.db.sqlite_inline);
- its ``COMMIT`` releases its savepoint and waits; its ``ROLLBACK`` rolls back to its savepoint
  (what it did, and only that, is undone) and, when earlier members of the group are waiting,
  waits for their commit too: it may have read their writes (an email already taken) and must
  not be answered from rows that are not yet durable; if their commit fails it gets the error;
- when a member ends and no other writer of the process is waiting for the slot (or the group
  is already large or old, see ``MAX_MEMBERS`` and ``MAX_OPEN_SECONDS``), the group's
  transaction is committed, once, on the connection's thread (on the loop's, with
  ``synchronous=NORMAL``: below); then every member that released its savepoint is told the
  outcome. A writer's ``COMMIT`` returns only after that commit is done (with ``FULL``, on
  disk), so nothing is acknowledged before it is as durable as configured; if the commit
  fails, every member of the group gets the error (nothing of theirs was written), and if
  SQLite rolled the shared transaction back on its own (a full disk, an I/O error), the members
  that were waiting get an error too, never a success.

A write that may be slow inside its transaction (a bulk write, a password hash, a remote call)
runs alone, outside groups (``writes_alone()``): in a group, the members before it would wait
for it to end before their answers.

Members run one after another, each seeing the earlier members' writes: the same as if each had
committed before the next began (the order the write turns gave before). Readers see a group's
writes only once it is committed, which is also when the writers' answers are sent.

With ``synchronous=NORMAL`` (or ``OFF``) a commit in WAL mode appends to the WAL without an fsync,
so a group on such a connection (``inline_commit``) commits on the loop's thread, at once, when
its last member ends: no hand-off to the thread, which waited for the GIL (up to the
interpreter's 5 ms switch interval while the loop was busy) with SQLite's write lock held and
every other process's writers waiting. Such a connection never checkpoints on commit (that
copies pages and fsyncs the database file, not work for the loop); a PASSIVE checkpoint runs on
the group's thread every ``CHECKPOINT_EVERY`` commits instead, as the read trail's batches do.
A connection that is not in WAL mode after all (a file system without shared memory) fsyncs at
every commit whatever ``synchronous`` says: its group commits on its thread, as a FULL one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic
from typing import Any

from carebook.db.lock_wait import is_locked, poll_while_locked
from carebook.db.write_gate import LOCKED_MESSAGE, Turn, WriteGate

logger = logging.getLogger("carebook.db")

# A group is committed when no other writer of the process waits, or once it has this many
# members, or once its transaction has been open this long: other processes wait for SQLite's
# lock while a group is open, and a member's answer waits for the group's commit.
MAX_MEMBERS = 32
MAX_OPEN_SECONDS = 0.05
# Inline commits (see the module's docstring) between PASSIVE checkpoints of the group's WAL.
# Often: the other processes' connections still checkpoint inside their own COMMITs once the WAL
# passes 1,000 pages, and a server's requests wait for those; this takes that work off them (a
# delivery process commits some 40 times a second under load, a few pages each).
CHECKPOINT_EVERY = 50
# The savepoint of the member that holds the slot (members never overlap, so one name does).
_SAVEPOINT = "carebook_member"
LOST_MESSAGE = "the write's group transaction was rolled back before it committed"
# Set by writes_alone(): the write transactions begun in this context run outside groups.
_ALONE: ContextVar[bool] = ContextVar("carebook_writes_alone", default=False)


@contextmanager
def writes_alone(alone: bool = True) -> Iterator[None]:
    """Write transactions begun inside run as transactions of their own, not in a group.

    For a write that may be slow inside its transaction (a bulk write, a password hash, a
    remote call such as a card capture): in a group, every member that finished before it
    would wait for it to end before its own commit and answer. Alone, it waits for the
    process's write turn (the open group ends first) and delays nobody's answer but its own.
    """
    token = _ALONE.set(alone)
    try:
        yield
    finally:
        _ALONE.reset(token)


def joins_group() -> bool:
    """False inside ``writes_alone()``."""
    return not _ALONE.get()


class GroupCommit:
    """One process's group-commit connections to one SQLite file (one per event loop)."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        gate: WriteGate,
        *,
        busy_timeout_ms: int,
        inline_commit: bool = False,
    ) -> None:
        """``inline_commit``: the connections ``connect`` makes do not fsync on commit
        (``synchronous=NORMAL`` or ``OFF`` in WAL mode), so groups commit on the loop."""
        self._connect = connect
        self._gate = gate
        self._busy_timeout_ms = busy_timeout_ms
        self._inline_commit = inline_commit
        # A group holds its loop (its futures, lock and tasks do), so a weak dictionary would
        # never drop one: the groups of closed loops are closed at the next look-up instead.
        self._groups: dict[asyncio.AbstractEventLoop, Group] = {}
        # Functions the engine registers on its connections (SQLAlchemy's REGEXP).
        self._functions: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def add_function(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Register a SQL function on every group connection, present and future."""
        if (args, kwargs) in self._functions:
            return
        self._functions.append((args, kwargs))
        for group in list(self._groups.values()):
            if group.connected:
                group.connection.create_function(*args, **kwargs)

    def group(self) -> Group:
        """The running loop's group (its connection is made on its thread by its first join)."""
        loop = asyncio.get_running_loop()
        group = self._groups.get(loop)
        if group is None:
            for gone in [other for other in self._groups if other.is_closed()]:
                self._groups.pop(gone).discard()
            group = self._groups[loop] = Group(
                self._connection,
                self._gate,
                loop,
                busy_timeout_ms=self._busy_timeout_ms,
                inline_commit=self._inline_commit,
            )
        return group

    def _connection(self) -> sqlite3.Connection:
        """A group's connection, with the registered functions (on the group's thread)."""
        connection = self._connect()
        if self._inline_commit:  # checkpoints run on the group's thread (module docstring)
            connection.execute("PRAGMA wal_autocheckpoint=0")
        for args, kwargs in list(self._functions):
            connection.create_function(*args, **kwargs)
        return connection

    async def close(self) -> None:
        """Close every group's connection (an open group is rolled back by SQLite), and wait
        until each is closed: whoever disposes the database may open the file alone next
        (leaving WAL, a restore), which a connection still closing on its thread would lock."""
        closing = [group.close() for group in list(self._groups.values())]
        self._groups.clear()
        for closed in closing:
            await asyncio.wrap_future(closed)


class Group:
    """The shared transaction of one event loop's writers (see the module's docstring)."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        gate: WriteGate,
        loop: asyncio.AbstractEventLoop,
        *,
        busy_timeout_ms: int,
        inline_commit: bool = False,
    ) -> None:
        # Imported here: sqlite_inline imports this module.
        from carebook.db.sqlite_inline import _OwnThread

        # Made on the runner's thread, never on the loop's: opening the file may wait (WAL
        # recovery after a crash, another process's lock).
        self.connection: sqlite3.Connection
        self.connected = False
        self._make_connection = connect
        self._connecting: asyncio.Future[None] | None = None
        self.runner = _OwnThread()
        self._gate = gate
        self._busy_timeout_ms = busy_timeout_ms
        self._loop = loop
        self._slot = asyncio.Lock()
        self._queued = 0  # writers waiting for the slot
        self._turn: Turn | None = None  # the process's write turn, held while a group is open
        self._opened_at = 0.0
        self._waiting: list[asyncio.Future[None]] = []  # members whose savepoint was released
        self._member: object | None = None  # the member holding the slot
        self._tasks: set[asyncio.Task[None]] = set()
        # True when the connection's transaction may hold writes nobody may commit (a failed
        # RELEASE or ROLLBACK TO, a group end cancelled or failed): never joined again, the next
        # group rolls it back first.
        self._poisoned = False
        self._inline_commit = inline_commit
        self._since_checkpoint = 0

    async def join(self, member: object, wait_seconds: float) -> None:
        """Wait for the slot, open the group's transaction if none is, open a savepoint.

        Raises ``sqlite3.OperationalError("database is locked")`` when the slot or the lock
        is not had within ``wait_seconds`` (SQLite's busy timeout), having changed nothing.
        """
        deadline = monotonic() + wait_seconds
        await self.connect()
        self._queued += 1
        try:
            if self._slot.locked():
                try:
                    # Not wait_for: on 3.11 it can swallow a cancellation (write_gate.py).
                    async with asyncio.timeout(wait_seconds):
                        await self._slot.acquire()
                except TimeoutError:
                    raise sqlite3.OperationalError(LOCKED_MESSAGE) from None
            else:
                await self._slot.acquire()
        finally:
            self._queued -= 1
        try:
            await self._open(deadline)
            self.connection.execute(f"SAVEPOINT {_SAVEPOINT}")
        except BaseException:
            self._after_member_failed_to_start()
            raise
        self._member = member

    async def connect(self) -> None:
        """Open the group's connection on its thread, once."""
        if self.connected:
            return
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self.runner.run(self._connect_here))
        connecting = self._connecting
        try:
            await asyncio.shield(connecting)
        finally:
            if connecting.done() and (connecting.cancelled() or connecting.exception()):
                self._connecting = None  # the next writer tries again

    def _connect_here(self) -> None:
        self.connection = self._make_connection()
        if self._inline_commit:
            # Only in WAL mode does a NORMAL commit skip the fsync (a file left in another
            # journal mode, a file system without shared memory): otherwise, on the thread.
            mode = self.connection.execute("PRAGMA journal_mode").fetchone()[0]
            self._inline_commit = str(mode).lower() == "wal"
        self.connected = True

    def _close_here(self) -> None:
        if self.connected:
            self.connection.close()

    def holds(self, member: object) -> bool:
        """True while ``member`` holds the slot (its statements run inline)."""
        return self._member is member and self.runner.idle() and self.connection.in_transaction

    async def ready(self, member: object) -> None:
        """Before a statement of ``member`` that may not run inline: wait for the connection's
        thread; raise if the group's transaction is gone (the statement must never run in
        autocommit, outside the member's savepoint)."""
        if self._member is member and not self.runner.idle():
            await self.runner.run(lambda: None)
        if not self.holds(member):
            raise sqlite3.OperationalError(LOST_MESSAGE)

    async def release(self, member: object) -> None:
        """The member's COMMIT: release its savepoint, then wait for the group's commit."""
        assert self._member is member
        self._member = None
        try:
            self.connection.execute(f"RELEASE {_SAVEPOINT}")
        except BaseException as error:
            # The member's work may still be in the transaction: the whole group is rolled
            # back, the members waiting get the error, nothing is committed.
            self._end_member(failed=error)
            raise
        outcome: asyncio.Future[None] = self._loop.create_future()
        self._waiting.append(outcome)
        self._end_member()
        await asyncio.shield(outcome)

    async def rollback(self, member: object) -> None:
        """The member's ROLLBACK: undo what it did since its savepoint, and only that.

        It may have read the released, not yet committed writes of the members before it (an
        email already taken, an idempotency key in use) and answered from them: it returns only
        once their commit is on disk, and raises the group's error if that commit failed.
        """
        outcome = self._undo(member, wait=True)
        if outcome is not None:
            await asyncio.shield(outcome)

    def abandon(self, member: object) -> None:
        """Undo the member's savepoint without waiting (its connection is closed: nobody is
        answered from it)."""
        self._undo(member, wait=False)

    def _undo(self, member: object, *, wait: bool) -> asyncio.Future[None] | None:
        """Undo the member's savepoint; with ``wait``, the future of the group's outcome when
        earlier members of the group are waiting for it (None when none are)."""
        if self._member is not member:
            return None
        self._member = None
        outcome: asyncio.Future[None] | None = None
        try:
            if self.connection.in_transaction:
                self.connection.execute(f"ROLLBACK TO {_SAVEPOINT}")
                self.connection.execute(f"RELEASE {_SAVEPOINT}")
        except BaseException as error:
            # Its writes may still be in the transaction: the whole group is rolled back.
            self._end_member(failed=error)
            raise
        if wait and self._waiting:
            outcome = self._loop.create_future()
            self._waiting.append(outcome)
        self._end_member()
        return outcome

    def close(self) -> concurrent.futures.Future[Any]:
        """Fail the waiting members and close the connection (after any running call); the
        returned future is done once the connection is closed."""
        self._fail_waiting(sqlite3.OperationalError(LOST_MESSAGE))
        if self._turn is not None:
            self._turn.end()
            self._turn = None
        closed = self.runner.submit(self._close_here)
        self.runner.shutdown()
        return closed

    def discard(self) -> None:
        """Close the group of a closed loop (its futures can no longer be settled; any open
        transaction is rolled back by SQLite when the connection closes)."""
        if self._turn is not None:
            self._turn.end()
            self._turn = None
        self.runner.submit(self._close_here)
        self.runner.shutdown()

    # -- inside --------------------------------------------------------------------------

    async def _open(self, deadline: float) -> None:
        """Make sure a group transaction is open (the slot is held)."""
        if self._poisoned:
            # A transaction nobody may commit: rolled back (after anything still running on
            # the thread), never joined.
            self._fail_waiting(sqlite3.OperationalError(LOST_MESSAGE))
            await self.runner.run(self._rollback)
            self._poisoned = False
        elif self.connection.in_transaction:
            return  # handed over by the previous member: this group goes on
        # A group whose transaction vanished (SQLite rolled it back) must not report success.
        self._fail_waiting(sqlite3.OperationalError(LOST_MESSAGE))
        if self._turn is None:
            self._turn = await self._gate.enter(max(0.0, deadline - monotonic()))
        try:
            if not (self.runner.idle() and self._begin_at_once()):
                await self.runner.run(lambda: self._begin_polling(deadline))
        except BaseException:
            # Unless a cancelled BEGIN may still run on the thread (the group's end rolls it
            # back, and gives the turn up then).
            if self.runner.idle() and not self.connection.in_transaction:
                self._turn.end()
                self._turn = None
            raise
        self._opened_at = monotonic()

    def _begin_at_once(self) -> bool:
        """BEGIN IMMEDIATE here (the loop's thread) if the lock is free; False, having changed
        nothing, when another process holds it."""
        try:
            with self._busy_timeout_off():
                self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not is_locked(error):
                raise
            return False
        return True

    def _begin_polling(self, deadline: float) -> None:
        """BEGIN IMMEDIATE on the thread, polling the lock another process holds."""
        with self._busy_timeout_off():
            poll_while_locked(
                lambda: self.connection.execute("BEGIN IMMEDIATE"),
                timeout=max(0.0, deadline - monotonic()),
                errors=sqlite3.OperationalError,
            )

    @contextmanager
    def _busy_timeout_off(self) -> Iterator[None]:
        """SQLite's busy handler off for the BEGIN only (its sleeps grow to 100 ms; the lock
        is polled instead); the statements after it keep the connection's busy timeout."""
        self.connection.execute("PRAGMA busy_timeout=0")
        try:
            yield
        finally:
            self.connection.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")

    def _after_member_failed_to_start(self) -> None:
        """A writer that got the slot but no savepoint: end the group if it has nobody."""
        self._end_member()

    def _end_member(self, failed: BaseException | None = None) -> None:
        """The slot's holder is done: let the next writer in, or commit the group.

        ``failed``: its RELEASE or ROLLBACK TO failed, so its writes may be in the transaction;
        the group is rolled back and its waiting members get the error.
        """
        if failed is not None:
            self._poisoned = True
            self._fail_waiting(failed)
        full = len(self._waiting) >= MAX_MEMBERS
        old = monotonic() - self._opened_at >= MAX_OPEN_SECONDS
        healthy = not self._poisoned and self.connection.in_transaction
        if self._queued and not full and not old and healthy:
            self._slot.release()  # the next writer continues this group's transaction
            # If that writer gave up meanwhile (cancelled, timed out), nobody would end the
            # group: look again once the woken writer had its chance to take the slot.
            self._loop.call_soon(self._finish_if_abandoned)
            return
        if self._inline_commit and healthy and self.runner.idle():
            self._finish_inline()
            return
        # The slot stays held until the group is committed; a task of its own commits it, so
        # a member cancelled while it waits cannot leave the group half done.
        self._keep(self._loop.create_task(self._finish()))

    def _finish_if_abandoned(self) -> None:
        if not self._slot.locked() and (self.connection.in_transaction or self._waiting):
            self._keep(self._loop.create_task(self._finish_when_free()))

    async def _finish_when_free(self) -> None:
        await self._slot.acquire()
        if self.connection.in_transaction or self._waiting:
            await self._finish()
        else:
            self._slot.release()

    def _keep(self, task: asyncio.Task[None]) -> None:
        """Hold a reference to a commit task until it is done (the loop keeps weak ones)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(self) -> None:
        """Commit (or end) the group's transaction; the slot is held and released here."""
        waiting, self._waiting = self._waiting, []
        try:
            if not self.runner.idle():  # a cancelled BEGIN may still be running there
                await self.runner.run(lambda: None)
            try:
                if not self.connection.in_transaction:
                    if waiting:
                        raise sqlite3.OperationalError(LOST_MESSAGE)
                elif waiting and not self._poisoned:
                    await self.runner.run(self._commit)
                else:
                    await self.runner.run(self._rollback)
                    if self._poisoned:
                        raise sqlite3.OperationalError(LOST_MESSAGE)
            except BaseException as error:
                _settle(waiting, error)
                if self._in_transaction():
                    await self.runner.run(self._rollback)
            else:
                _settle(waiting, None)
        except BaseException as error:  # cancelled, or the rollback after a failed commit
            _settle(waiting, error)
        finally:
            self._ended()

    def _ended(self) -> None:
        """The group's end, committed or not: give the process's turn and the slot up.

        Cancelled, or a failed ROLLBACK: the transaction may still be open (or a COMMIT or
        ROLLBACK still running on the thread); the next group rolls it back first."""
        self._poisoned = not self.runner.idle() or self._in_transaction()
        if self._turn is not None:
            self._turn.end()
            self._turn = None
        self._slot.release()

    def _finish_inline(self) -> None:
        """:meth:`_finish` of a healthy group whose commit does not fsync, here on the loop:
        the slot is held and released here, the members waiting are told at once."""
        waiting, self._waiting = self._waiting, []
        try:
            self._commit()
        except BaseException as error:
            _settle(waiting, error)
            with contextlib.suppress(sqlite3.Error):  # still open: the next group rolls back
                self._rollback()
        else:
            _settle(waiting, None)
        finally:
            self._ended()
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            self._since_checkpoint = 0
            # The group being closed meanwhile (its runner shut down) must not turn a commit
            # that happened into an error: the checkpoint is skipped, the next one catches up.
            with contextlib.suppress(RuntimeError):
                self.runner.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        """A PASSIVE checkpoint, on the group's thread: it waits for no reader or writer."""
        try:
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:  # the next one tries again; the WAL only grows meanwhile
            logger.warning("WAL checkpoint failed: %s", type(error).__name__)

    def _in_transaction(self) -> bool:
        """Whether the group's transaction may still be open: True once the connection is
        closed (the database disposed while a member finished): nothing may be joined then."""
        try:
            return self.connection.in_transaction
        except sqlite3.ProgrammingError:  # closed by close()
            return True

    def _commit(self) -> None:
        self.connection.execute("COMMIT")

    def _rollback(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    def _fail_waiting(self, error: BaseException) -> None:
        waiting, self._waiting = self._waiting, []
        _settle(waiting, error)


def _settle(waiting: Sequence[asyncio.Future[None]], error: BaseException | None) -> None:
    for outcome in waiting:
        if outcome.done():
            continue
        if error is None:
            outcome.set_result(None)
        else:
            outcome.set_exception(error)
