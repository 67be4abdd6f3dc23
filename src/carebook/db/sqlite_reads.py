"""Single-row reads on a SQLite file through one connection the process holds, on the loop.

``user(id)`` is the hottest read, and reading its one row through an ORM session (a session and
its transaction object, a pooled connection checked out and back in, the greenlet hop of the
async engine, the ORM's loading of the row) cost ~400 us of CPU, against ~20 us for the SQL.
Here the same statement (built by the same code, so visibility is unchanged) runs through
SQLAlchemy Core on a synchronous connection the process keeps open: ~75 us, types converted by
SQLAlchemy as usual. :func:`detached` turns the row into the entity a session would have
returned and closed over (a detached instance).

The connection is like the read engine's (carebook.db.engine): ``query_only``, no BEGIN, so
every statement is its own snapshot and sees every commit before it. It runs on the event
loop's thread, as the read engine's connections do on SQLite (a read in WAL mode never waits
for a lock). Only for statements that are executed and fetched in one call: there is no await
between the two, so requests never interleave on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Row
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql import Executable

from carebook.db.base import Base

E = TypeVar("E", bound=Base)


class SQLiteRowReads:
    """A process's own read connection for single-row look-ups (SQLite files only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # query_only and the read pragmas, from the engine's connect hooks
        self._connection: Connection | None = None

    def first(self, statement: Executable, parameters: Mapping[str, Any]) -> Row[Any] | None:
        """The statement's first row (or None), executed and fetched at once."""
        connection = self._connection
        if connection is None:
            connection = self._connection = self.engine.connect()
        try:
            return connection.execute(statement, parameters).first()
        except DBAPIError:
            # A broken connection is not kept: the next read opens a fresh one.
            self.close()
            raise

    def close(self) -> None:
        """Give the connection back (shutdown, or after an error)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


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
