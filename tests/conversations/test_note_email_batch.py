"""A new message's emails are set-based: a message to a conversation of five patients sends
the same statements as to one, and each reachable member still gets one email (a member
who turned message emails off, none)."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.db import statements_sent
from tests.support.emails import outbox_rows
from tests.support.groups import add_patients
from tests.support.note_documents import conversation_with, sent
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database
from carebook.notifications.models import EmailKind, NotificationSetting


async def _told(database: Database) -> list[int]:
    rows = await outbox_rows(database)
    return sorted(row.recipient_user_id for row in rows if row.kind == EmailKind.NEW_MESSAGE)


async def _quiet(database: Database, user_id: int) -> None:
    """``user_id`` turned message emails off."""
    async with database.write_sessions() as session, session.begin():
        session.add(NotificationSetting(user_id=user_id, send_message_emails=False))


async def test_a_message_to_many_members_costs_what_a_message_to_one_costs(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    patients = await add_patients(database, passwords, world.a, 5, tag="batch")
    await _quiet(database, patients[-1])
    one = await conversation_with(provider, f"user-{patients[0]}", name="One")
    many = await conversation_with(provider, ",".join(f"user-{p}" for p in patients[1:]))

    with statements_sent(database) as to_one:
        await sent(provider, one, "<p>Hello</p>")
    assert await _told(database) == [patients[0]]
    with statements_sent(database) as to_many:
        await sent(provider, many, "<p>Hello all</p>")

    assert await _told(database) == sorted(patients[:-1])  # the quiet one is not told
    assert len(to_many) == len(to_one), (to_one, to_many)
