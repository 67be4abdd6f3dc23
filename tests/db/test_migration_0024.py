"""Migration 0024: memberships that exist before it keep their members, get ids and are read.

The data is written at head, the database taken back to the revision before 0024 and up again:
0024's downgrade and its copy both run (as test_migration_0022 does for 0022).
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
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db.engine import create_database
from carebook.db.migrate import alembic_config, upgrade

REVISION = "0024_conversation_memberships"
STARTED = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


async def _converse(settings: Settings, passwords: Passwords) -> tuple[int, int, int]:
    """A provider and a patient in one conversation: (conversation, provider, patient)."""
    database = create_database(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            load_without_trail(session)
            provider = await builders.provider(session, passwords, email="p@example.com")
            patient = await builders.patient(session, passwords, actor=builders.actor_of(provider))
            conversation = Conversation(
                organization_id=provider.organization_id,
                owner_id=provider.user_id,
                created_at=STARTED,
                updated_at=datetime.now(UTC),
            )
            session.add(conversation)
            await session.flush()
            session.add_all(
                ConversationMembership(conversation_id=conversation.id, user_id=uid, viewed=False)
                for uid in (provider.user_id, patient.id)
            )
            return conversation.id, provider.user_id, patient.id
    finally:
        await database.dispose()


async def _state(settings: Settings) -> tuple[list[tuple[object, ...]], tuple[object, ...]]:
    database = create_database(settings)
    try:
        async with database.read_sessions() as session:
            members = await session.execute(
                select(
                    ConversationMembership.user_id,
                    ConversationMembership.viewed,
                    ConversationMembership.archived,
                    ConversationMembership.created_at,
                ).order_by(ConversationMembership.id)
            )
            conversation = await session.execute(
                select(Conversation.patient_id, Conversation.updated_at)
            )
            return [tuple(row) for row in members], tuple(conversation.one())
    finally:
        await database.dispose()


def test_existing_memberships_survive_with_ids_and_read(
    database_url: str, settings: Settings, passwords: Passwords, tmp_path: Path
) -> None:
    before = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(REVISION)
    assert before is not None
    with empty_database(database_url, tmp_path) as url:
        upgrade(url)
        at_url = settings.model_copy(update={"database_url": url})
        _, provider_id, patient_id = asyncio.run(_converse(at_url, passwords))
        command.downgrade(alembic_config(url), str(before.down_revision))
        upgrade(url)
        members, conversation = asyncio.run(_state(at_url))
    # Before 0024 a membership had no state: each comes back viewed, not archived, as old as
    # its conversation; the conversation's subject is its patient, its last change its start.
    assert members == [
        (provider_id, True, False, STARTED),
        (patient_id, True, False, STARTED),
    ]
    assert conversation == (patient_id, STARTED)
