"""The email of a new message, delivered by a real SMTP server: "you have a new message" and a
link, never the message; once until the member reads; off with send_message_emails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.api import Api
from tests.support.emails import deliver, outbox_rows, with_smtp
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.note_documents import conversation_with, sent
from tests.support.notification_documents import records, update_setting
from tests.support.world import World

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.notifications.models import EmailKind

PORTAL = "https://portal.example.com/"
SECRET = "Your biopsy came back benign"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """Settings delivering to the test's SMTP server, with a portal to link to."""
    return with_smtp(settings, mailbox.url, portal_url=PORTAL)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The served app's settings carry the portal too."""
    return settings.model_copy(update={"portal_url": PORTAL})


async def _message_emails(database: Database) -> int:
    return sum(row.kind == EmailKind.NEW_MESSAGE for row in await outbox_rows(database))


async def _clear(database: Database, smtp_settings: Settings, mailbox: Mailbox) -> None:
    """Deliver what the world's set-up queued (welcome emails), and forget it."""
    await deliver(database, smtp_settings)
    mailbox.received.clear()


async def test_the_recipient_is_told_of_a_new_message_without_its_text(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _clear(database, smtp_settings, mailbox)
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    await sent(provider, conversation_id, f"<p>{SECRET}</p>")
    await sent(provider, conversation_id, f"<p>{SECRET}, again</p>")  # still unread: no email

    assert (await deliver(database, smtp_settings)).sent == 1
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["patient.a@example.com"]
    assert mail.subject.startswith("You have a new message")
    for part in ("plain", "html"):
        body = mail.part(part)
        assert "new message" in body and PORTAL in body
        assert "biopsy" not in body and "benign" not in body  # never the message
    rows = await records(patient, type="chat_messages")
    assert [row["notification_type"] for row in rows] == ["new_message"]

    # The patient answers (and so has read): the provider is told once; the next message from
    # the provider is a new unread one for the patient, so another email.
    await sent(patient, conversation_id, "Thank you!")
    await sent(provider, conversation_id, "You are welcome")
    assert (await deliver(database, smtp_settings)).sent == 2
    assert sorted(m.rcpt_tos[0] for m in mailbox.received[1:]) == [
        "patient.a@example.com",
        "provider.a@example.com",
    ]


async def test_send_message_emails_off_sends_none(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _clear(database, smtp_settings, mailbox)
    provider = api.with_key(world.a.provider.api_key)
    patient = api.with_token(world.a.patient_token)
    setting = await update_setting(patient, send_message_emails=False)
    assert setting["messages"] is None
    conversation_id = await conversation_with(provider, str(world.a.patient_id))
    await sent(provider, conversation_id, "Hello")
    assert await _message_emails(database) == 0
    assert (await deliver(database, smtp_settings)).sent == 0
    assert mailbox.received == []
