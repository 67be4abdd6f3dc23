"""Migration 0022: every tagging that exists before it gets its applied-tag record.

The data is written at head (the models are head's), then the database is taken back to the
revision before 0022 and up again: 0022's downgrade and its copy both run, wherever later
migrations put it in the line.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select
from tests.db.test_migrations import empty_database

from carebook import builders
from carebook.audit.trail import load_without_trail
from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.migrate import alembic_config, upgrade
from carebook.tags.models import AppliedTag, Tag, Tagging

REVISION = "0022_applied_tags_resets"
APPLIED = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


async def _tag_a_patient(settings: Settings, passwords: Passwords) -> tuple[int, int]:
    """A provider, a patient and a bare tagging (no record, as before 0022): (tag, patient)."""
    database = create_database(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            load_without_trail(session)
            provider = await builders.provider(session, passwords, email="p@example.com")
            actor = builders.actor_of(provider)
            patient = await builders.patient(session, passwords, actor=actor)
            tag = Tag(
                organization_id=provider.organization_id,
                user_id=provider.user_id,
                name="VIP",
                name_key="vip",
            )
            session.add(tag)
            await session.flush()
            session.add(Tagging(tag_id=tag.id, user_id=patient.id, created_at=APPLIED))
            return tag.id, patient.id
    finally:
        await database.dispose()


async def _records(settings: Settings) -> list[tuple[object, ...]]:
    database = create_database(settings)
    try:
        async with database.read_sessions() as session:
            rows = await session.execute(
                select(
                    AppliedTag.tag_id,
                    AppliedTag.user_id,
                    AppliedTag.created_at,
                    AppliedTag.updated_at,
                    AppliedTag.applied_by_id,
                    AppliedTag.deleted_at,
                )
            )
            return [tuple(row) for row in rows]
    finally:
        await database.dispose()


def test_existing_taggings_get_their_records(
    database_url: str, settings: Settings, passwords: Passwords, tmp_path: Path
) -> None:
    before = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(REVISION)
    assert before is not None
    with empty_database(database_url, tmp_path) as url:
        upgrade(url)
        at_url = settings.model_copy(update={"database_url": url})
        tag_id, patient_id = asyncio.run(_tag_a_patient(at_url, passwords))
        command.downgrade(alembic_config(url), str(before.down_revision))
        upgrade(url)
        records = asyncio.run(_records(at_url))
    assert records == [(tag_id, patient_id, APPLIED, APPLIED, None, None)]
