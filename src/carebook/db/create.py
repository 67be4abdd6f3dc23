"""Creating a missing PostgreSQL database (``carebook db upgrade``, ``carebook serve``).

So the README's PostgreSQL steps need no ``createdb``: the server's user must be allowed to
create databases (the ``postgres`` superuser is; otherwise an operator creates it once).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

logger = logging.getLogger("carebook")
# The database every PostgreSQL server has, to connect to when the target does not exist yet.
MAINTENANCE_DATABASE = "postgres"
# PostgreSQL's SQLSTATEs: invalid_catalog_name (no such database), duplicate_database.
MISSING = "3D000"
DUPLICATE = "42P04"


def create_statement(name: str) -> str:
    """CREATE DATABASE with the name always quoted: any character, quotes included, is safe.

    PostgreSQL's rule for a quoted identifier: double quotes around it, inner ones doubled.
    """
    quoted = name.replace('"', '""')
    return f'CREATE DATABASE "{quoted}"'


def _sqlstate(error: DBAPIError) -> str | None:
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return str(state) if state else None


async def _exists(url: URL) -> bool:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect():
            return True
    except DBAPIError as error:
        if _sqlstate(error) == MISSING:
            return False
        raise
    finally:
        await engine.dispose()


async def _create(url: URL) -> bool:
    maintenance = url.set(database=MAINTENANCE_DATABASE)
    # CREATE DATABASE cannot run inside a transaction.
    engine = create_async_engine(maintenance, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(create_statement(url.database or "")))
        return True
    except DBAPIError as error:
        if _sqlstate(error) == DUPLICATE:
            return False  # another process created it meanwhile
        raise
    finally:
        await engine.dispose()


async def _ensure(url: URL) -> bool:
    return False if await _exists(url) else await _create(url)


def ensure_database(database_url: str) -> bool:
    """Create the URL's PostgreSQL database if it is missing; True when it was created.

    SQLite needs nothing (the file is created on first connection). Blocking: call from sync code.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        return False
    created = asyncio.run(_ensure(url))
    if created:
        logger.info("created PostgreSQL database %s", url.database)
    return created
