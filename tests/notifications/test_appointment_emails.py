"""The patient's appointment emails (booked, cancelled), delivered by a real SMTP server, and
the two notification settings that turn them off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.api import Api
from tests.support.emails import deliver, outbox_rows, with_smtp
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.notification_documents import records, update_setting
from tests.support.scheduling import CANCEL, CREATE_APPOINTMENT, checkout, create_type, future
from tests.support.world import World

from carebook.config import Settings
from carebook.db.engine import Database


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """Settings delivering to the test's SMTP server."""
    return with_smtp(settings, mailbox.url)


async def _book(api: Api, world: World, type_id: str, days: int) -> dict[str, Any]:
    start = future(days=days, hour=15)
    payload: dict[str, Any] = (
        await api.with_key(world.a.provider.api_key).data(
            CREATE_APPOINTMENT,
            {
                "user_id": str(world.a.patient_id),
                "type": type_id,
                "datetime": start.replace(tzinfo=None).isoformat(),
                "timezone": "America/New_York",
            },
        )
    )["createAppointment"]
    assert not payload["messages"], payload
    return payload


async def _cancel(caller: Api, appointment_id: str) -> None:
    payload = (await caller.data(CANCEL, {"id": appointment_id}))["updateAppointment"]
    assert not payload["messages"], payload


async def test_booking_and_cancelling_email_the_patient_once_each(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key))
    booked = await _book(api, world, type_id, days=5)
    appointment_id = booked["appointment"]["id"]

    assert (await deliver(database, smtp_settings)).sent == 1
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["patient.a@example.com"]
    assert "is booked" in mail.subject
    when = future(days=5, hour=15)
    assert f"{when:%B} {when.day}, {when.year} at 3:00 PM" in mail.part("plain")  # local time
    assert "Hello Pat" in mail.part("html")

    patient = api.with_token(world.a.patient_token)
    await _cancel(patient, appointment_id)
    await _cancel(patient, appointment_id)  # already cancelled: no second email
    assert (await deliver(database, smtp_settings)).sent == 1
    assert "is cancelled" in mailbox.received[1].subject
    rows = await records(patient, type="appointments")
    assert [row["notification_type"] for row in rows] == [
        "appointment_cancelled",
        "appointment_booked",
    ]


async def test_each_setting_turns_off_its_own_email(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    patient = api.with_token(world.a.patient_token)
    type_id = await create_type(api.with_key(world.a.provider.api_key))

    await update_setting(patient, send_email_on_appointment_book=False)
    first = (await _book(api, world, type_id, days=4))["appointment"]["id"]
    assert await outbox_rows(database) == []
    await _cancel(patient, first)  # cancellation emails are still on
    assert [row.kind for row in await outbox_rows(database)] == ["appointment_cancelled"]
    assert (await deliver(database, smtp_settings)).sent == 1

    await update_setting(
        patient, send_email_on_appointment_book=True, send_email_on_appointment_cancel=False
    )
    second = (await _book(api, world, type_id, days=6))["appointment"]["id"]
    await _cancel(api.with_key(world.a.provider.api_key), second)
    kinds = [row.kind for row in await outbox_rows(database)]
    assert kinds == ["appointment_cancelled", "appointment_booked"]
    assert (await deliver(database, smtp_settings)).sent == 1
    assert ["is cancelled" in m.subject for m in mailbox.received] == [True, False]


async def test_a_patient_booking_through_checkout_gets_the_booked_email(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    type_id = await create_type(api.with_key(world.a.provider.api_key), ccb=True)
    payload = await checkout(
        api.with_token(world.a.patient_token),
        appointment_type_id=type_id,
        provider_id=str(world.a.provider.user_id),
        date=future(days=8).isoformat(),
        timezone="UTC",
    )
    assert not payload["messages"], payload
    assert (await deliver(database, smtp_settings)).sent == 1
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["patient.a@example.com"]
    assert "is booked" in mail.subject
