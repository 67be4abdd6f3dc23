"""Migration 0035: messages written before it keep their order, each taking its id as its
place in the conversation (``notes.position``), so read receipts and the newest message read
the same after it as before.

The data is written at head, the database taken back to 0034 and up again: 0035's downgrade
and its backfill both run (as test_migration_0033 does for 0033).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from sqlalchemy import select
from tests.db.test_migration_0033 import _converse
from tests.db.test_migrations import empty_database

from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.conversations.note_models import Note
from carebook.db.engine import create_database
from carebook.db.migrate import alembic_config, upgrade


async def _places(settings: Settings) -> dict[int, int | None]:
    database = create_database(settings)
    try:
        async with database.read_sessions() as session:
            rows = await session.execute(select(Note.id, Note.position))
            return dict(tuple(row) for row in rows)
    finally:
        await database.dispose()


def test_existing_messages_take_their_id_as_their_place(
    database_url: str, settings: Settings, passwords: Passwords, tmp_path: Path
) -> None:
    with empty_database(database_url, tmp_path) as url:
        upgrade(url)
        at_url = settings.model_copy(update={"database_url": url})
        ids = asyncio.run(_converse(at_url, passwords))
        command.downgrade(alembic_config(url), "0034_notes_newest")
        upgrade(url)
        places = asyncio.run(_places(at_url))
    notes = [ids["p1"], ids["a1"], ids["p2"]]
    assert places == {note_id: note_id for note_id in notes}
