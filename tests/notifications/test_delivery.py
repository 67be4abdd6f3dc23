"""The outbox delivered over real SMTP (aiosmtpd): templates, retries, claims, failures."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from tests.support.api import Api
from tests.support.emails import create_client, deliver, outbox_rows, with_smtp
from tests.support.mailbox import Mailbox, free_port, run_mailbox
from tests.support.world import World

from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.notifications.models import OutboxMessage
from carebook.notifications.smtp import parse_smtp_url


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """Settings delivering to the test's SMTP server."""
    return with_smtp(settings, mailbox.url)


async def _new_client(api: Api, world: World, **fields: object) -> str:
    payload = await create_client(
        api.with_key(world.a.provider.api_key),
        first_name="Ada",
        last_name="Lovelace",
        email="ada.lovelace@example.com",
        **fields,
    )
    assert payload["messages"] is None, payload
    return str(payload["user"]["id"])


async def test_welcome_email_arrives_with_practice_name_link_and_both_parts(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _new_client(api, world)

    report = await deliver(database, smtp_settings)

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["ada.lovelace@example.com"]
    assert "Welcome to" in mail.subject
    text, body = mail.part("plain"), mail.part("html")
    assert "Hello Ada" in text and "Hello Ada" in body
    assert 'href="http://127.0.0.1:8000/set_password?token=' in body
    assert mail.link().startswith("http://127.0.0.1:8000/set_password?token=")
    assert mail.link() in text
    assert mail.message["Message-ID"].startswith("<outbox-")
    rows = await outbox_rows(database)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1)]
    assert rows[0].sent_at is not None


async def test_the_practice_name_is_in_subject_text_and_html(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    data = await api.with_key(world.a.provider.api_key).data(
        "query { currentUser { organization { name } } }"
    )
    practice = data["currentUser"]["organization"]["name"]
    await _new_client(api, world)
    await deliver(database, smtp_settings)
    [mail] = mailbox.received
    assert practice in mail.subject
    assert practice in mail.part("plain")
    assert html.escape(practice) in mail.part("html")  # escaped: the name has an apostrophe
    assert practice in str(mail.message["From"])


async def test_a_second_pass_sends_nothing_again(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _new_client(api, world)
    await deliver(database, smtp_settings)
    again = await deliver(database, smtp_settings)
    assert again.sent == 0
    assert len(mailbox.received) == 1


async def test_concurrent_workers_send_each_message_once(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    for index in range(3):
        await create_client(
            api.with_key(world.a.provider.api_key),
            first_name="Pat",
            last_name=f"Many{index}",
            email=f"many{index}@example.com",
        )
    reports = await asyncio.gather(*(deliver(database, smtp_settings) for _ in range(3)))
    assert sum(r.sent for r in reports) == 3
    assert sorted(m.rcpt_tos[0] for m in mailbox.received) == [
        "many0@example.com",
        "many1@example.com",
        "many2@example.com",
    ]


async def test_dont_send_welcome_queues_and_sends_nothing(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _new_client(api, world, dont_send_welcome=True)
    assert (await deliver(database, smtp_settings)).sent == 0
    assert mailbox.received == []
    assert await outbox_rows(database) == []


async def _set_lease(database: Database, *, status: str, lease_until: object) -> None:
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).values(status=status, lease_until=lease_until))


async def test_a_message_claimed_by_a_live_worker_is_left_alone(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _new_client(api, world)
    await _set_lease(database, status="sending", lease_until=utcnow() + timedelta(minutes=5))
    assert (await deliver(database, smtp_settings)).sent == 0
    assert mailbox.received == []


async def test_a_crashed_workers_lapsed_lease_is_taken_over(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _new_client(api, world)
    await _set_lease(database, status="sending", lease_until=utcnow() - timedelta(seconds=1))
    assert (await deliver(database, smtp_settings)).sent == 1
    assert len(mailbox.received) == 1


async def test_a_temporary_refusal_is_retried_later_then_fails_after_max_attempts(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _new_client(api, world)
    mailbox.handler.reply = "451 4.3.0 Try again later"
    settings = smtp_settings.model_copy(update={"email_max_attempts": 2})

    first = await deliver(database, settings)

    assert (first.sent, first.retried, first.failed) == (0, 1, 0)
    [row] = await outbox_rows(database)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at > utcnow() + timedelta(seconds=30)
    assert row.last_error == "recipient refused [451]"
    # Not due yet: a pass now does nothing.
    assert (await deliver(database, settings)).retried == 0
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    second = await deliver(database, settings)
    assert second.failed == 1
    [row] = await outbox_rows(database)
    assert (row.status, row.attempts) == ("failed", 2)


async def test_a_permanent_refusal_fails_at_once_without_the_address_in_the_error(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _new_client(api, world)
    mailbox.handler.reply = "550 5.1.1 <ada.lovelace@example.com>: no such user"
    report = await deliver(database, smtp_settings)
    assert report.failed == 1
    [row] = await outbox_rows(database)
    assert row.status == "failed"
    assert row.last_error == "recipient refused [550]"


async def test_an_unreachable_server_is_a_temporary_failure(
    api: Api, world: World, database: Database, settings: Settings
) -> None:
    await _new_client(api, world)
    unreachable = with_smtp(settings, f"smtp://127.0.0.1:{free_port()}")
    report = await deliver(database, unreachable)
    assert report.retried == 1
    [row] = await outbox_rows(database)
    assert (row.status, row.attempts) == ("pending", 1)


async def test_an_archived_recipient_is_a_permanent_failure(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    user_id = await _new_client(api, world)
    await api.with_key(world.a.provider.api_key).data(
        "mutation($id: ID) { updateClient(input: {id: $id, active: false}) { user { id } } }",
        {"id": user_id},
    )
    assert (await deliver(database, smtp_settings)).failed == 1
    assert mailbox.received == []


async def test_without_smtp_messages_are_logged_without_patient_details(
    api: Api, world: World, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="carebook.email"):
        await _new_client(api, world)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "carebook.email")
    assert "queued" in logged and "welcome" in logged
    assert "ada" not in logged.lower() and "lovelace" not in logged.lower()
    [row] = await outbox_rows(database)
    assert row.status == "pending"


def test_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://mail.example.com")
    assert (plain.port, plain.use_tls, plain.start_tls, plain.username) == (25, False, None, None)
    secure = parse_smtp_url("smtps://user%40x:p%3Ass@mail.example.com")
    assert (secure.port, secure.use_tls, secure.start_tls) == (465, True, False)
    assert (secure.username, secure.password) == ("user@x", "p:ss")
    required = parse_smtp_url("smtp://h:587?starttls=required&verify=false")
    assert (required.port, required.start_tls, required.validate_certs) == (587, True, False)
    assert parse_smtp_url("smtp://h?starttls=off").start_tls is False
    with pytest.raises(ValueError, match="smtp://"):
        parse_smtp_url("http://h")
