"""sendWelcomeEmail: Healthie's mutation re-sends the invitation through the outbox, delivered
by a real SMTP server; it refuses clearly, and changes nothing, for anyone out of reach."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from tests.support.api import Api
from tests.support.emails import (
    UPDATE_CLIENT,
    create_client,
    deliver,
    outbox_rows,
    token_of,
    with_smtp,
)
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.notification_documents import SEND_WELCOME, records
from tests.support.world import World

from carebook.auth.models import SignupToken
from carebook.config import Settings
from carebook.db.engine import Database

NOT_FOUND = [{"field": "user_id", "message": "User not found"}]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """Settings delivering to the test's SMTP server."""
    return with_smtp(settings, mailbox.url)


async def _send(caller: Api, user_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await caller.data(SEND_WELCOME, {"input": {"user_id": user_id}}))[
        "sendWelcomeEmail"
    ]
    return payload


async def test_the_welcome_email_is_sent_again_with_a_set_password_link(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    staff = api.with_key(world.a.staff.api_key)
    payload = await _send(staff, str(world.a.other_patient_id))
    assert payload["success_string"]
    assert not payload["messages"]
    assert (await deliver(database, smtp_settings)).sent == 1
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["other.a@example.com"]
    assert "Welcome to" in mail.subject
    assert "/set_password?token=" in mail.link()  # no password yet: an invitation link
    [record] = await records(staff, patient_id=str(world.a.other_patient_id))
    assert (record["notification_type"], record["delivery_status"]) == ("welcome", "sent")

    again = await _send(staff, str(world.a.other_patient_id))
    assert again["success_string"]
    assert (await deliver(database, smtp_settings)).sent == 1
    assert len(mailbox.received) == 2


async def test_out_of_reach_unknown_archived_or_without_email_is_a_message(
    api: Api, world: World, database: Database
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    no_email = (
        await provider.data(
            """mutation { createClient(input: {first_name: "No", last_name: "Mail",
               skipped_email: true}) { user { id } } }"""
        )
    )["createClient"]["user"]["id"]
    queued_before = len(await outbox_rows(database))  # createClient's own welcome email
    for user_id in (str(world.b.patient_id), str(world.a.staff.user_id), "99999999"):
        assert await _send(provider, user_id) == {"success_string": None, "messages": NOT_FOUND}
    malformed = await _send(provider, "abc")
    assert malformed["messages"] == [{"field": "user_id", "message": "'abc' is not a valid id"}]

    archive = {"id": str(world.a.other_patient_id), "active": False}
    await provider.data(UPDATE_CLIENT, {"input": archive})
    archived = await _send(provider, str(world.a.other_patient_id))
    assert archived["messages"] == [
        {"field": "user_id", "message": "This client is archived: reactivate them first"}
    ]
    without = await _send(provider, no_email)
    assert without["messages"] == [
        {"field": "user_id", "message": "This client has no email address to send to"}
    ]
    assert len(await outbox_rows(database)) == queued_before


async def test_a_patient_may_not_send_welcome_emails(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    codes = await patient.error_codes(SEND_WELCOME, {"input": {"user_id": str(world.a.patient_id)}})
    assert codes == ["FORBIDDEN"]


async def test_the_welcome_email_of_a_new_patient_carries_the_token_made_with_them(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    """createClient writes the patient's signup token and welcome email in its transaction;
    delivery links the token made then (it would issue another if none were stored)."""
    payload = await create_client(
        api.with_key(world.a.provider.api_key),
        first_name="Ada",
        last_name="Byron",
        email="ada.byron@example.com",
    )
    assert payload["messages"] is None, payload
    given = token_of(payload["user"]["set_password_link"])
    [queued] = [row for row in await outbox_rows(database) if row.kind == "welcome"]
    assert (queued.status, queued.attempts) == ("pending", 0)

    assert (await deliver(database, smtp_settings)).sent == 1

    [mail] = mailbox.received
    assert token_of(mail.link()) == given
    async with database.read_sessions() as session:
        user_id = int(payload["user"]["id"])
        tokens = await session.execute(select(SignupToken).where(SignupToken.user_id == user_id))
        assert len(list(tokens.scalars())) == 1
