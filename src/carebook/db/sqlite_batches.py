"""Small SQLite write transactions on a process's own connection, on the loop when they can be.

The read audit trail commits a batch for every few reads, and each read waits for its batch.
Handed to a worker thread through SQLAlchemy (BEGIN IMMEDIATE, the INSERT, COMMIT), a batch cost
more CPU than the read it records: the thread hand-off, the engine's per-statement work, and
the GIL passed back and forth. Here one plain ``sqlite3`` connection (made by the engine, so it
has its connect hooks' pragmas) is held by the process and a batch is tried first on the event
loop's own thread:

- ``BEGIN IMMEDIATE`` with a busy timeout of 0 either takes the write lock at once or fails at
  once; in WAL mode with ``synchronous=NORMAL`` the commit appends to the WAL without an fsync,
  so the loop is held only for the statements themselves (tens of microseconds);
- when another writer holds the lock, the batch goes to a worker thread, which polls the lock
  (carebook.db.lock_wait) without blocking the loop; so does a batch its caller says is large;
- with ``synchronous=FULL`` or ``EXTRA`` a commit waits for an fsync, so every batch goes to
  the thread;
- the connection never checkpoints on commit (an automatic checkpoint copies pages and fsyncs
  the database file, which must not happen on the loop); a PASSIVE checkpoint runs on a worker
  thread, on another connection, after every ``checkpoint_every`` batches. PASSIVE never waits
  for readers or writers, and the write engine's connections keep checkpointing as usual.

A threading lock guards the connection, so a batch still running on a thread (its caller
cancelled) is never joined by another one on the loop. Given the process's ``WriteGate``
(carebook.db.write_gate), a batch first waits for its turn behind the process's write
transactions (which hold SQLite's lock across event-loop turns) instead of polling them.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy.engine import Engine

from carebook.db.lock_wait import is_locked, poll_while_locked
from carebook.db.observers import Observer, Observers
from carebook.db.write_gate import WriteGate

logger = logging.getLogger("carebook.db")

# Batches between PASSIVE checkpoints: a batch of the read trail writes a handful of pages, so
# this keeps the WAL near SQLite's own default threshold (1,000 pages).
CHECKPOINT_EVERY = 200
# SQLite's "synchronous" levels whose commits do not wait for an fsync in WAL mode.
NO_FSYNC_ON_COMMIT = frozenset({"OFF", "NORMAL"})


class Statements:
    """What a batch's work is given: the connection's execute and executemany, observed."""

    def __init__(self, connection: sqlite3.Connection, observers: Observers) -> None:
        self._connection = connection
        self._observers = observers

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement."""
        self._observers.tell(sql)
        return self._connection.execute(sql, parameters)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each of ``rows``."""
        self._observers.tell(sql)
        self._connection.executemany(sql, rows)


Work = Callable[[Statements], None]


class SQLiteBatches:
    """A process's own SQLite write connection for short batches (one at a time)."""

    def __init__(
        self,
        engine: Engine,
        *,
        synchronous: str,
        checkpoint_every: int = CHECKPOINT_EVERY,
        gate: WriteGate | None = None,
    ) -> None:
        self.engine = engine  # busy timeout 0 and the pragmas, from its connect hooks
        self._gate = gate or WriteGate()
        self.inline = synchronous.upper() in NO_FSYNC_ON_COMMIT
        self._checkpoint_every = checkpoint_every
        self._proxy: Any = None  # the pool's connection, held until close()
        self._guard = threading.Lock()
        self._observers = Observers()  # of the statements a batch sends
        self._since_checkpoint = 0
        self._checkpoint: asyncio.Task[None] | None = None
        self.checkpoints = 0  # PASSIVE checkpoints run so far (tests read it)

    async def run(self, work: Work, *, lock_wait_seconds: float, small: bool = True) -> None:
        """Run ``work`` in one write transaction: inline if the lock is free, else on a thread.

        ``small=False`` sends it to a thread whatever the lock: a long batch would hold the loop
        (the caller knows its size; a thousand trail rows take milliseconds).
        """
        async with self._gate.turn(lock_wait_seconds):
            if not (self.inline and small and self._run_inline(work)):
                await asyncio.to_thread(self._run_waiting, work, lock_wait_seconds)
        self._since_checkpoint += 1
        if self._since_checkpoint >= self._checkpoint_every and self._checkpoint is None:
            self._since_checkpoint = 0
            self._checkpoint = asyncio.get_running_loop().create_task(self._checkpoint_wal())

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` with every statement sent from now on; returns the way to stop."""
        return self._observers.observe(observer)

    async def close(self) -> None:
        """Wait for a running checkpoint and give the connection back to the engine's pool."""
        if self._checkpoint is not None:
            await asyncio.shield(self._checkpoint)
        with self._guard:
            if self._proxy is not None:
                self._proxy.close()
                self._proxy = None

    def _run_inline(self, work: Work) -> bool:
        """The batch on the calling (loop) thread; False if the lock (or the guard) is taken."""
        if not self._guard.acquire(blocking=False):
            return False
        try:
            self._transaction(work)
        except sqlite3.OperationalError as error:
            if is_locked(error):
                return False  # nothing was written: BEGIN IMMEDIATE or the whole batch failed
            raise
        finally:
            self._guard.release()
        return True

    def _run_waiting(self, work: Work, timeout: float) -> None:
        with self._guard:
            poll_while_locked(
                lambda: self._transaction(work), timeout=timeout, errors=sqlite3.OperationalError
            )

    def _transaction(self, work: Work) -> None:
        connection = self._connection()
        statements = Statements(connection, self._observers)
        statements.execute("BEGIN IMMEDIATE")
        try:
            work(statements)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise

    def _connection(self) -> sqlite3.Connection:
        if self._proxy is None:
            self._proxy = self.engine.raw_connection()
            # Checkpoints run apart (see the module's docstring), never inside this one's commit.
            self._proxy.driver_connection.execute("PRAGMA wal_autocheckpoint=0")
        connection: sqlite3.Connection = self._proxy.driver_connection
        return connection

    async def _checkpoint_wal(self) -> None:
        try:
            await asyncio.to_thread(self._checkpoint_now)
            self.checkpoints += 1
        except sqlite3.Error as error:  # the next one tries again; the WAL only grows meanwhile
            logger.warning("WAL checkpoint failed: %s", type(error).__name__)
        finally:
            self._checkpoint = None

    def _checkpoint_now(self) -> None:
        # Another connection: a PASSIVE checkpoint runs beside the batches, it does not stop them.
        # A raw one, outside any transaction (the engine's "begin" hook would open one).
        proxy = self.engine.raw_connection()
        try:
            connection = cast(sqlite3.Connection, proxy.driver_connection)
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            proxy.close()
