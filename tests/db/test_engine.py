"""SQLite write transactions take the write lock at BEGIN (BEGIN IMMEDIATE); reads do not."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.migrate import upgrade


def _other_writer_blocked(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    other.execute("ROLLBACK")
    return False


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    path = tmp_path / "engine.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def test_write_session_holds_the_write_lock_from_its_first_statement(
    sqlite_path: Path,
) -> None:
    db = create_database(Settings(database_url=f"sqlite+aiosqlite:///{sqlite_path}"))
    try:
        async with db.write_sessions() as session, session.begin():
            await session.execute(
                text("SELECT 1")
            )  # a read only: a deferred BEGIN would lock nothing
            assert _other_writer_blocked(sqlite_path)
        assert not _other_writer_blocked(sqlite_path)
    finally:
        await db.dispose()


async def test_read_session_does_not_block_writers(sqlite_path: Path) -> None:
    db = create_database(Settings(database_url=f"sqlite+aiosqlite:///{sqlite_path}"))
    try:
        async with db.read_sessions() as session, session.begin():
            await session.execute(text("SELECT count(*) FROM users"))
            assert not _other_writer_blocked(sqlite_path)
    finally:
        await db.dispose()
