"""Creating a missing PostgreSQL database (``carebook db upgrade``, ``carebook serve``).

So the README's PostgreSQL steps need no ``createdb``: the server's user must be allowed to
create databases (the ``postgres`` superuser is; otherwise an operator creates it once).
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, make_url

logger = logging.getLogger("carebook")
# The database every PostgreSQL server has, to connect to when the target does not exist yet.
MAINTENANCE_DATABASE = "postgres"


def _dsn(url: URL, database: str) -> str:
    return url.set(drivername="postgresql", database=database).render_as_string(
        hide_password=False
    )


def create_statement(name: str) -> str:
    """CREATE DATABASE with the name always quoted: any character, quotes included, is safe."""
    return f"CREATE DATABASE {postgresql.dialect().identifier_preparer.quote_identifier(name)}"


async def _ensure(url: URL) -> bool:
    name = url.database or ""
    try:
        connection = await asyncpg.connect(_dsn(url, name))
    except asyncpg.InvalidCatalogNameError:
        pass  # missing: created below
    else:
        await connection.close()
        return False
    admin = await asyncpg.connect(_dsn(url, MAINTENANCE_DATABASE))
    try:
        await admin.execute(create_statement(name))
    except asyncpg.DuplicateDatabaseError:
        return False  # another process created it meanwhile
    finally:
        await admin.close()
    return True


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
