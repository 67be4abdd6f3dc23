"""Migration 0033: messages written before it are taken as sent by their writer, and each
member's read receipt is backfilled: a member who had read the conversation has read up to its
newest message, the others up to their own newest message (or none).

The data is written at head, the database taken back to the revision before 0033 and up again:
0033's downgrade and its backfill both run (as test_migration_0024 does for 0024).
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
from carebook.conversations.note_models import Note
from carebook.db.engine import create_database
from carebook.db.migrate import alembic_config, upgrade

REVISION = "0033_note_reads"
STARTED = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


async def _converse(settings: Settings, passwords: Passwords) -> dict[str, int]:
    """A conversation of a provider (has read), a patient (answered, then unread) and a second
    patient (never read nor wrote), and its messages; the ids by name."""
    database = create_database(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            load_without_trail(session)
            provider = await builders.provider(session, passwords, email="p@example.com")
            actor = builders.actor_of(provider)
            patient = await builders.patient(session, passwords, actor=actor)
            other = await builders.patient(
                session, passwords, actor=actor, email="other@example.com"
            )
            conversation = Conversation(
                organization_id=provider.organization_id,
                owner_id=provider.user_id,
                created_at=STARTED,
                updated_at=STARTED,
            )
            session.add(conversation)
            await session.flush()
            viewed = {provider.user_id: True, patient.id: False, other.id: False}
            session.add_all(
                ConversationMembership(conversation_id=conversation.id, user_id=uid, viewed=seen)
                for uid, seen in viewed.items()
            )
            ids: dict[str, int] = {
                "provider": provider.user_id,
                "patient": patient.id,
                "other": other.id,
            }
            for name, writer in (
                ("p1", provider.user_id),
                ("a1", patient.id),
                ("p2", provider.user_id),
            ):
                note = Note(
                    organization_id=provider.organization_id,
                    conversation_id=conversation.id,
                    user_id=writer,
                    sent_by_id=patient.id,  # 0033 forgets who sent it: its writer did
                    content=f"<p>{name}</p>",
                )
                session.add(note)
                await session.flush()
                ids[name] = note.id
            return ids
    finally:
        await database.dispose()


async def _state(settings: Settings) -> tuple[dict[int, int | None], set[bool]]:
    database = create_database(settings)
    try:
        async with database.read_sessions() as session:
            receipts = await session.execute(
                select(ConversationMembership.user_id, ConversationMembership.last_read_note_id)
            )
            senders = await session.execute(select(Note.sent_by_id == Note.user_id))
            return dict(tuple(row) for row in receipts), set(senders.scalars())
    finally:
        await database.dispose()


def test_existing_messages_get_their_sender_and_members_their_receipts(
    database_url: str, settings: Settings, passwords: Passwords, tmp_path: Path
) -> None:
    before = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(REVISION)
    assert before is not None
    with empty_database(database_url, tmp_path) as url:
        upgrade(url)
        at_url = settings.model_copy(update={"database_url": url})
        ids = asyncio.run(_converse(at_url, passwords))
        command.downgrade(alembic_config(url), str(before.down_revision))
        upgrade(url)
        receipts, same_sender = asyncio.run(_state(at_url))
    assert same_sender == {True}  # every message sent by its writer
    assert receipts == {
        ids["provider"]: ids["p2"],  # had read: up to the newest
        ids["patient"]: ids["a1"],  # unread: up to their own answer
        ids["other"]: None,  # unread and silent: nothing read
    }
