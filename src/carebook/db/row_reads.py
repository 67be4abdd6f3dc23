"""Single-row reads through one connection each server process holds, without an ORM session.

``user(id)`` is the hottest read, and reading its one row through an ORM session (a session and
its transaction object, a pooled connection checked out and back in, the async engine's greenlet
hop, the ORM's loading of the row) cost ~400 us of CPU on SQLite and ~520 us on PostgreSQL,
against ~20 us for the SQL itself on SQLite. Here the same statement (built by the same code, so
visibility is unchanged) runs through SQLAlchemy Core, types converted as usual, on a connection
the process keeps open; :func:`detached` turns the row into the entity a closed session would
have left.

Both connections only read and take no transaction: every statement is its own snapshot and sees
every commit before it, and nothing is held open between reads (no snapshot kept from vacuum or
checkpoints).

- SQLite file: a synchronous connection like the read engine's (``query_only``), used on the
  event loop's thread as those are (a read in WAL mode never waits for a lock). Execution and
  fetch are one call with no await between them, so requests never interleave on it. ~75 us.
- PostgreSQL: an asyncpg connection of its own engine, ``AUTOCOMMIT`` and
  ``default_transaction_read_only``; one statement at a time (an asyncio lock: asyncpg serves one
  operation per connection), each a primary-key look-up of well under a millisecond. ~250 us.

A connection that fails (or whose request is cancelled mid-statement) is dropped; the next read
opens a fresh one. On PostgreSQL a read that finds its connection lost (a server restart) is sent
again once on a fresh connection, so a restart fails no request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy import Row
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql import Executable

from carebook.db.base import Base

E = TypeVar("E", bound=Base)


class RowReads(Protocol):
    """A process's held connection for single-row look-ups."""

    async def first(self, statement: Executable, parameters: Mapping[str, Any]) -> Row[Any] | None:
        """The statement's first row, or None."""

    async def close(self) -> None:
        """Give the connection back (shutdown)."""


class SQLiteRowReads:
    """SQLite file: a synchronous ``query_only`` connection, used on the loop's thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # query_only and the read pragmas, from the engine's connect hooks
        self._connection: Connection | None = None

    async def first(self, statement: Executable, parameters: Mapping[str, Any]) -> Row[Any] | None:
        """The statement's first row (or None), executed and fetched at once."""
        connection = self._connection
        if connection is None:
            connection = self._connection = self.engine.connect()
        try:
            return connection.execute(statement, parameters).first()
        except DBAPIError:
            self._drop()
            raise

    async def close(self) -> None:
        """Give the connection back and close the engine's pool."""
        self._drop()
        self.engine.dispose()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class PostgresRowReads:
    """PostgreSQL: a read-only AUTOCOMMIT connection of its own engine, a statement at a time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._lock: asyncio.Lock | None = None  # made in the loop that first reads

    async def first(self, statement: Executable, parameters: Mapping[str, Any]) -> Row[Any] | None:
        """The statement's first row (or None), after the process's earlier look-ups."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            try:
                return await self._first(statement, parameters)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            # The connection was lost (a server restart, a terminated backend): a read can be
            # sent again, once, on a fresh one; the pool's idle ping spares pooled ones the same.
            return await self._first(statement, parameters)

    async def _first(self, statement: Executable, parameters: Mapping[str, Any]) -> Row[Any] | None:
        connection = self._connection
        if connection is None:
            connection = self._connection = await self.engine.connect()
        try:
            return (await connection.execute(statement, parameters)).first()
        except BaseException:
            # A failed statement, or a request cancelled mid-statement: the connection's state is
            # unknown, so it is not used again.
            self._connection = None
            await asyncio.shield(connection.invalidate())
            raise

    async def close(self) -> None:
        """Close the connection and the engine."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
        await self.engine.dispose()


def detached(entity: type[E], row: Row[Any]) -> E:
    """``entity`` with the column values ``row`` holds, as a closed session leaves it.

    The instance is detached (it has its identity, no session): reading its attributes works as
    on one loaded by a session that has since closed; adding it to a session would update that
    row, never insert another. Columns the row lacks are expired (reading one raises, as for a
    detached instance loaded without them).
    """
    mapper = entity.__mapper__
    instance: E = mapper.class_manager.new_instance()
    values = instance.__dict__
    mapping = row._mapping
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if column in mapping:
            values[prop.key] = mapping[column]
    make_transient_to_detached(instance)
    return instance
