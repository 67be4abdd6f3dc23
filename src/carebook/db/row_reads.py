"""Single-row reads through one connection each server process holds, without an ORM session.

``user(id)`` is the hottest read, and reading its one row through an ORM session (a session and
its transaction object, a pooled connection checked out and back in, the async engine's greenlet
hop, the ORM's loading of the row) cost ~400 us of CPU on SQLite and ~520 us on PostgreSQL,
against ~20 us for the SQL itself on SQLite. Here the same statement (built by the same code, so
visibility is unchanged) is compiled once (carebook.db.prepared) and sent straight to the driver
on a connection the process keeps open, each column converted as Core converts it;
:func:`carebook.db.rows.detached` turns the row into the entity a closed session would have
left. Statements that cannot be prepared (text, or SQL completed at execution) go through Core
on the same connection.

Both connections only read and take no transaction: every statement is its own snapshot and sees
every commit before it, and nothing is held open between reads (no snapshot kept from vacuum or
checkpoints).

- SQLite file: a synchronous connection like the read engine's (``query_only``), used on the
  event loop's thread as those are (a read in WAL mode never waits for a lock). Execution and
  fetch are one call with no await between them, so requests never interleave on it. ~25 us
  (~75 through Core).
- PostgreSQL: an asyncpg connection of its own engine, ``AUTOCOMMIT`` and
  ``default_transaction_read_only``; one statement at a time (an asyncio lock: asyncpg serves one
  operation per connection), each a primary-key look-up of well under a millisecond
  (carebook.db.held). ~40 us (~110 through Core).

A statement that fails on the driver is sent once more through Core on a fresh connection, which
decides: the error comes as SQLAlchemy's, and a read that found its connection lost (a server
restart) succeeds, so a restart fails no request. A connection whose request is cancelled
mid-statement is dropped; the next read opens a fresh one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from carebook.db.held import HeldConnection
from carebook.db.observers import Observer, Observers
from carebook.db.prepared import PreparedCache
from carebook.db.rows import HeldRow, from_core


class RowReads(Protocol):
    """A process's held connection for single-row look-ups."""

    # The engine the held connection comes from (its statements fire its events).
    engine: Any

    async def first(self, statement: Executable, parameters: Mapping[str, Any]) -> HeldRow | None:
        """The statement's first row, or None."""

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` with each statement sent straight to the driver (not through Core,
        whose engine events see the others); returns the way to stop."""

    async def close(self) -> None:
        """Give the connection back (shutdown)."""


class SQLiteRowReads:
    """SQLite file: a synchronous ``query_only`` connection, used on the loop's thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # query_only and the read pragmas, from the engine's connect hooks
        self._connection: Connection | None = None
        self._prepared = PreparedCache(engine.dialect)
        self._observers = Observers()

    async def first(self, statement: Executable, parameters: Mapping[str, Any]) -> HeldRow | None:
        """The statement's first row (or None), executed and fetched at once."""
        connection = self._connect()
        prepared = self._prepared.get(statement)
        if prepared is not None:
            self._observers.tell(prepared.sql)
            try:
                driver = connection.connection.driver_connection
                assert driver is not None
                # fetchall runs the statement to its end, so it holds no read snapshot after.
                rows = driver.execute(prepared.sql, prepared.arguments(parameters)).fetchall()
                return prepared.row(rows[0]) if rows else None
            except sqlite3.Error:
                # Core decides (it raises the error as SQLAlchemy's), on a fresh connection.
                self._drop()
                connection = self._connect()
        try:
            return from_core(statement, connection.execute(statement, parameters).first())
        except DBAPIError:
            self._drop()
            raise

    def observe(self, observer: Observer) -> Callable[[], None]:
        """See :meth:`RowReads.observe`."""
        return self._observers.observe(observer)

    async def close(self) -> None:
        """Give the connection back and close the engine's pool."""
        self._drop()
        self.engine.dispose()

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = self.engine.connect()
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class PostgresRowReads:
    """PostgreSQL: a read-only AUTOCOMMIT connection of its own engine, a statement at a time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._held = HeldConnection(engine)
        self._prepared = PreparedCache(engine.dialect)

    async def first(self, statement: Executable, parameters: Mapping[str, Any]) -> HeldRow | None:
        """The statement's first row (or None), after the process's earlier look-ups."""
        async with self._held.lock:
            await self._held.connection()  # compiling needs the dialect its first connect set up
            prepared = self._prepared.get(statement)
            if prepared is not None:
                try:
                    driver = await self._held.driver(prepared.sql)
                    values = await driver.fetchrow(prepared.sql, *prepared.arguments(parameters))
                    return prepared.row(values) if values is not None else None
                except asyncio.CancelledError:
                    await self._held.drop()  # cancelled mid-statement: its state is unknown
                    raise
                except Exception:  # Core decides below (raising SQLAlchemy's error), afresh
                    await self._held.drop()
            try:
                return await self._core(statement, parameters)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            # The connection was lost (a server restart, a terminated backend): a read can be
            # sent again, once, on a fresh one.
            return await self._core(statement, parameters)

    async def _core(self, statement: Executable, parameters: Mapping[str, Any]) -> HeldRow | None:
        connection = await self._held.connection()
        try:
            row = (await connection.execute(statement, parameters)).first()
        except BaseException:
            # A failed statement, or a request cancelled mid-statement: the connection's state is
            # unknown, so it is not used again.
            await self._held.drop()
            raise
        return from_core(statement, row)

    def observe(self, observer: Observer) -> Callable[[], None]:
        """See :meth:`RowReads.observe`."""
        return self._held.observe(observer)

    async def close(self) -> None:
        """Close the connection and the engine."""
        await self._held.close()
