"""Readiness: can this process serve requests from its database right now?

Three probes, in order, through the same verbs requests use (carebook.db.engine.Database):
a read (``SELECT 1``), the migrations (the database's Alembic version equals the code's head)
and a write that changes nothing and is rolled back (an ``UPDATE`` of no row of
``alembic_version``: SQLite takes its write lock for it, so a read-only file, directory or
mount fails here; PostgreSQL refuses it in a read-only transaction or on a standby). No row is
written and no row lock is taken, so real writes are not disturbed (on SQLite they wait at most
for the probe's empty transaction, as for any other writer's). With a read replica
(``CAREBOOK_DATABASE_READ_URL``) a fourth: it answers and has replayed the migrations (the list
reads that go there would fail otherwise).

The answer names the cause in plain words; the exception's own text is never logged or answered
(it can carry SQL, parameters, a host or a user name).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.db.engine import Database
from carebook.db.migrate import alembic_config

READ_ONLY = "database is read-only"
UNREACHABLE = "database is unreachable"
BEHIND = "database migrations are not current"
FAILED = "database probe failed"
REPLICA_UNREACHABLE = "read replica is unreachable"
REPLICA_BEHIND = "read replica's migrations are not current"

_READ = text("SELECT 1")
_VERSION = text("SELECT version_num FROM alembic_version")
_WRITE = text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0")
# Words of the drivers' messages for a database that refuses writes (sqlite3: "attempt to write
# a readonly database"; PostgreSQL: "cannot execute UPDATE in a read-only transaction").
_READ_ONLY_WORDS = ("readonly database", "read-only transaction", "read-only")


@dataclass(frozen=True, slots=True)
class NotReady:
    """Why the database cannot serve: ``reason`` in plain words, ``error`` the exception type."""

    reason: str
    error: str | None = None


@functools.cache
def code_heads() -> frozenset[str]:
    """The Alembic heads of the migrations shipped with this code (read once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def readiness(database: Database) -> NotReady | None:
    """None when the database answers a read and a write and its migrations are current."""
    try:
        async with database.read_sessions() as session:
            await session.execute(_READ)
            versions = await _versions(session)
    except (SQLAlchemyError, OSError) as error:
        return _cause(error, UNREACHABLE)
    if versions != code_heads():
        return NotReady(BEHIND)
    try:
        async with database.write_sessions() as session, session.begin() as transaction:
            await session.execute(_WRITE)
            await transaction.rollback()
    except (SQLAlchemyError, OSError) as error:
        return _cause(error, FAILED)
    return await _replica_readiness(database)


async def _replica_readiness(database: Database) -> NotReady | None:
    """The read replica (CAREBOOK_DATABASE_READ_URL) answers and has replayed the migrations:
    list reads go there, so a server without it cannot answer them."""
    if database.list_sessions is database.read_sessions:
        return None  # no replica
    try:
        async with database.list_sessions() as session:
            versions = await _versions(session)
    except (SQLAlchemyError, OSError) as error:
        return NotReady(REPLICA_UNREACHABLE, type(_original(error)).__name__)
    if versions != code_heads():
        return NotReady(REPLICA_BEHIND)
    return None


async def _versions(session: AsyncSession) -> frozenset[str]:
    """The database's Alembic versions; none when it was never migrated."""
    try:
        return frozenset((await session.execute(_VERSION)).scalars())
    except ProgrammingError:  # PostgreSQL: no alembic_version table
        return frozenset()
    except OperationalError as error:  # SQLite says so with an OperationalError
        if "no such table" in str(error.orig):
            return frozenset()
        raise


def _cause(error: Exception, otherwise: str) -> NotReady:
    """The plain-words cause of a failed probe (only the exception's type is kept)."""
    original = _original(error)
    words = str(original).lower()
    if any(word in words for word in _READ_ONLY_WORDS):
        return NotReady(READ_ONLY, type(original).__name__)
    return NotReady(otherwise, type(original).__name__)


def _original(error: Exception) -> BaseException | None:
    """The driver's exception under SQLAlchemy's wrapper."""
    return error.orig if isinstance(error, DBAPIError) else error
