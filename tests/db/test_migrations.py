"""The migrations build exactly the tables the models describe, on both databases."""

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from carebook.db.migrate import alembic_config, upgrade

# Neither SQLAlchemy nor Alembic can read an index on an expression back from SQLite, so the
# check leaves uq_users_email out there (and says so); tests/users/test_email_index.py reads
# its definition back on both databases, and PostgreSQL's check compares it.
_NOT_REFLECTED = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index"
)
_NOT_COMPARED = pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based"
)


@_NOT_REFLECTED
@_NOT_COMPARED
def test_models_and_migrations_agree(database_url: str) -> None:
    # Raises when autogenerate would find a difference between the models and the database.
    command.check(alembic_config(database_url))


def test_migrations_form_one_line() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


@contextmanager
def empty_database(server_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on the server of ``server_url`` (a file for SQLite), then dropped."""
    if server_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'from_0014.db'}"
        return
    name = f"carebook_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _sqlite_schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    return [(str(name), str(sql)) for name, sql in rows]


@_NOT_REFLECTED
@_NOT_COMPARED
def test_a_database_at_0014_upgrades_to_head_and_matches_the_models(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    with empty_database(database_url, tmp_path) as url:
        upgrade(url, "0014_list_blocks")
        before = _sqlite_schema(tmp_path / "from_0014.db") if backend == "sqlite" else []
        upgrade(url, "0015_column_widths")
        if backend == "sqlite":
            # Widths mean nothing to SQLite: 0015 leaves its schema alone (editing sqlite_master
            # fails on SQLite builds in defensive mode).
            assert _sqlite_schema(tmp_path / "from_0014.db") == before
        upgrade(url)
        command.check(alembic_config(url))  # PostgreSQL's widths are the models'


async def _tables(url: str, create: str | None = None) -> set[str]:
    """The tables of the database at ``url``, after running ``create`` if given."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            if create is not None:
                await connection.execute(text(create))
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def test_an_upgrade_that_fails_part_way_leaves_the_schema_as_it_was(
    database_url: str, tmp_path: Path
) -> None:
    """All the pending migrations run in one transaction, on SQLite as on PostgreSQL: one that
    fails (here 0030, whose table is there already), like a server stopped mid-way, leaves no
    half-built schema (before, SQLite kept the 29 migrations before it)."""
    with empty_database(database_url, tmp_path) as url:
        existing = asyncio.run(_tables(url, "CREATE TABLE client_merges (id INTEGER)"))
        assert existing == {"client_merges"}
        with pytest.raises(DBAPIError):
            upgrade(url)
        assert asyncio.run(_tables(url)) == existing
        upgrade_after = asyncio.run(_tables(url, "DROP TABLE client_merges"))
        assert upgrade_after == set()
        upgrade(url)  # and a later upgrade builds it all
        assert "client_merges" in asyncio.run(_tables(url))
