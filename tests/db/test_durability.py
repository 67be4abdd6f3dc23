"""SQLite's journal settings: WAL, and commits synced to disk unless the operator relaxes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from carebook.config import Settings
from carebook.db.engine import create_database

# PRAGMA synchronous reports a number: 1 NORMAL, 2 FULL, 3 EXTRA.
LEVELS = {"NORMAL": 1, "FULL": 2, "EXTRA": 3}


async def _pragmas(settings: Settings) -> tuple[str, int]:
    database = create_database(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            journal = (await session.execute(text("PRAGMA journal_mode"))).scalar_one()
            synchronous = (await session.execute(text("PRAGMA synchronous"))).scalar_one()
    finally:
        await database.dispose()
    return str(journal), int(synchronous)


async def test_commits_are_synced_to_disk_by_default(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    assert await _pragmas(settings) == ("wal", LEVELS["FULL"])


@pytest.mark.parametrize("level", ["NORMAL", "EXTRA"])
async def test_the_operator_chooses_the_sync_level(tmp_path: Path, level: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    settings = Settings(database_url=url, sqlite_synchronous=level)
    assert await _pragmas(settings) == ("wal", LEVELS[level])


def test_an_unknown_level_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="FULL"):
        Settings(sqlite_synchronous="OFF")
