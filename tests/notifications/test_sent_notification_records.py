"""sentNotificationRecords / sentNotificationRecordsCount: what the outbox sent to a patient,
with Healthie's filters, delivered through a real SMTP server; never an email's text, and never
another patient's or another practice's records."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from tests.support.api import Api
from tests.support.emails import UPDATE_CLIENT, create_client, deliver, with_smtp
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.notification_documents import RECORDS, records, records_count
from tests.support.world import World

from carebook.config import Settings
from carebook.db.engine import Database

HEALTHIE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
FIELDS = {
    "id",
    "category",
    "created_at",
    "delivery_status",
    "notification_description",
    "notification_type",
    "representation_type",
    "user_id",
}


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """Settings delivering to the test's SMTP server."""
    return with_smtp(settings, mailbox.url)


async def _email(api: Api, key: str, patient_id: int, **trigger: Any) -> None:
    fields = {"id": str(patient_id), **trigger}
    payload = (await api.with_key(key).data(UPDATE_CLIENT, {"input": fields}))["updateClient"]
    assert not payload["messages"], payload


async def _sent_and_pending(api: Api, world: World, database: Database, smtp: Settings) -> None:
    """Patient A: a welcome email (sent), then an intake reminder (pending)."""
    key = world.a.provider.api_key
    await _email(api, key, world.a.patient_id, resend_welcome=True)
    assert (await deliver(database, smtp)).sent == 1
    await _email(api, key, world.a.patient_id, send_form_request_reminder=True, is_intake_item=True)


async def test_records_list_what_was_sent_newest_first_without_any_text(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _sent_and_pending(api, world, database, smtp_settings)
    staff = api.with_key(world.a.staff.api_key)

    rows = await records(staff, patient_id=str(world.a.patient_id))

    assert [set(row) for row in rows] == [FIELDS, FIELDS]
    reminder, welcome = rows
    assert reminder["notification_type"] == "intake_forms_reminder"
    assert reminder["representation_type"] == "forms"
    assert reminder["delivery_status"] == "pending"
    assert welcome["notification_type"] == "welcome"
    assert welcome["representation_type"] is None
    assert welcome["delivery_status"] == "sent"
    assert {row["category"] for row in rows} == {"email"}
    assert all(HEALTHIE_TIME.match(row["created_at"]) for row in rows), rows
    assert {row["user_id"] for row in rows} == {str(world.a.patient_id)}
    assert int(reminder["id"]) > int(welcome["id"])
    # No part of the email itself: not its subject, not its greeting, not its link.
    [mail] = mailbox.received
    for row in rows:
        shown = " ".join(str(value) for value in row.values())
        assert mail.subject not in shown and "Hello" not in shown and "http" not in shown
    assert await records_count(staff, patient_id=str(world.a.patient_id)) == 2


async def test_filters_by_status_type_and_dates(
    api: Api, world: World, database: Database, smtp_settings: Settings
) -> None:
    await _sent_and_pending(api, world, database, smtp_settings)
    staff = api.with_key(world.a.provider.api_key)
    patient = {"patient_id": str(world.a.patient_id)}
    both = ["intake_forms_reminder", "welcome"]
    reminder, welcome = await records(staff, **patient)
    # Days as the reader sees them: the dates the records are written with.
    first, last = (date.fromisoformat(row["created_at"][:10]) for row in (welcome, reminder))
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"status": "sent"}, ["welcome"]),
        ({"status": "pending"}, ["intake_forms_reminder"]),
        ({"status": "failed"}, []),
        ({"type": "forms"}, ["intake_forms_reminder"]),
        ({"type": "welcome"}, ["welcome"]),
        ({"type": "appointments"}, []),
        ({"start_date": first.isoformat()}, both),
        ({"end_date": last.isoformat()}, both),
        ({"start_date": (last + timedelta(days=1)).isoformat()}, []),
        ({"end_date": (first - timedelta(days=1)).isoformat()}, []),
        ({"start_date": welcome["created_at"]}, both),  # Healthie's form, as the answer writes it
        # An end as the answer writes it (whole seconds) includes that second.
        ({"end_date": welcome["created_at"], "status": "sent"}, ["welcome"]),
        (
            {"end_date": f"{(first - timedelta(days=1)).isoformat()}T23:59:59"},
            [],
        ),  # the reader's zone
    ]
    for arguments, kinds in cases:
        rows = await records(staff, **patient, **arguments)
        assert [row["notification_type"] for row in rows] == kinds, arguments
        assert await records_count(staff, **patient, **arguments) == len(kinds), arguments


async def test_a_provider_s_patients_and_the_whole_practice(
    api: Api, world: World, database: Database, smtp_settings: Settings
) -> None:
    await _sent_and_pending(api, world, database, smtp_settings)
    provider_key = world.a.provider.api_key
    await _email(api, provider_key, world.a.other_patient_id, resend_welcome=True)
    # A patient of another provider of the practice (the staff member is their provider).
    created = await create_client(
        api.with_key(world.a.staff.api_key),
        first_name="Sam",
        last_name="Staffed",
        email="sam.staffed@example.com",
    )
    sam = created["user"]["id"]
    await _email(api, world.b.provider.api_key, world.b.patient_id, resend_welcome=True)
    staff = api.with_key(world.a.staff.api_key)

    mine = await records(staff, provider_id=str(world.a.provider.user_id), should_paginate=True)
    assert {row["user_id"] for row in mine} == {
        str(world.a.patient_id),
        str(world.a.other_patient_id),
    }
    theirs = await records(staff, provider_id=str(world.a.staff.user_id))
    assert [row["user_id"] for row in theirs] == [sam]
    practice = await records(staff, provider_id=str(world.a.provider.user_id), org_level=True)
    assert len(practice) == 4
    assert str(world.b.patient_id) not in {row["user_id"] for row in practice}
    assert await records_count(staff, org_level=True) == 4
    page = await records(staff, org_level=True, should_paginate=True, offset=3)
    assert [row["id"] for row in page] == [practice[3]["id"]]


async def test_a_failed_email_is_recorded_as_failed(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    mailbox.handler.reply = "550 no such mailbox"
    await _email(api, world.a.provider.api_key, world.a.patient_id, resend_welcome=True)
    assert (await deliver(database, smtp_settings)).failed == 1
    [row] = await records(
        api.with_key(world.a.provider.api_key), status="failed", patient_id=str(world.a.patient_id)
    )
    assert row["delivery_status"] == "failed"


async def test_a_patient_reads_only_their_own_records(
    api: Api, world: World, database: Database, smtp_settings: Settings
) -> None:
    await _sent_and_pending(api, world, database, smtp_settings)
    await _email(api, world.a.provider.api_key, world.a.other_patient_id, resend_welcome=True)
    patient = api.with_token(world.a.patient_token)

    own = await records(patient)
    assert [row["notification_type"] for row in own] == ["intake_forms_reminder", "welcome"]
    assert await records(patient, patient_id=str(world.a.patient_id)) == own
    assert await records_count(patient) == 2
    for arguments in (
        {"patient_id": str(world.a.other_patient_id)},
        {"provider_id": str(world.a.provider.user_id)},
        {"provider_id": str(world.a.provider.user_id), "org_level": True},
        {"org_level": True},
    ):
        assert await records(patient, **arguments) == [], arguments
        assert await records_count(patient, **arguments) == 0, arguments


async def test_another_practice_s_patient_has_no_records_for_you(
    api: Api, world: World, database: Database, smtp_settings: Settings
) -> None:
    await _sent_and_pending(api, world, database, smtp_settings)
    other_practice = api.with_key(world.b.provider.api_key)
    assert await records(other_practice, patient_id=str(world.a.patient_id)) == []
    assert await records_count(other_practice, patient_id=str(world.a.patient_id)) == 0
    assert await records(other_practice, provider_id=str(world.a.provider.user_id)) == []
    assert await records(other_practice, org_level=True) == []


async def test_bad_arguments_are_clear_errors(api: Api, world: World) -> None:
    staff = api.with_key(world.a.staff.api_key)
    for arguments, message in (
        ({"status": "delivered"}, "status must be one of: pending, sent, failed, skipped"),
        (
            {"start_date": "last tuesday"},
            "start_date is not a date (yyyy-MM-dd) or a date and time (e.g. 2023-06-05 14:10:00 "
            "+0200 or 2023-06-05T14:10:00+02:00)",
        ),
        ({"patient_id": "abc"}, "patient_id is not a valid id"),
        ({"offset": -1}, "offset can't be negative"),
    ):
        body = await staff.post(RECORDS, arguments)
        [error] = body["errors"]
        assert error["message"] == message
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    anonymous = await api.error_codes(RECORDS, {})
    assert anonymous == ["UNAUTHENTICATED"]
