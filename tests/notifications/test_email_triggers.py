"""updateClient's email triggers delivered for real, and form requests (create, list, remind)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from sqlalchemy import update
from tests.support.api import Api
from tests.support.db import user_snapshot
from tests.support.emails import (
    LIST_REQUESTS,
    REQUEST_FORM,
    UPDATE_CLIENT,
    deliver,
    outbox_rows,
    with_smtp,
)
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.world import World

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.forms.models import FormRequestStatus, RequestedFormCompletion
from carebook.notifications.models import OutboxMessage


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """Settings delivering to the test's SMTP server."""
    return with_smtp(settings, mailbox.url)


async def _update(api: Api, key: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.with_key(key).data(UPDATE_CLIENT, {"input": fields}))[
        "updateClient"
    ]
    return payload


async def _request_form(api: Api, key: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.with_key(key).data(REQUEST_FORM, {"input": fields}))[
        "createRequestedFormCompletion"
    ]
    return payload


async def test_resend_welcome_delivers_and_leaves_demographics_unchanged(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    before = await user_snapshot(database, world.a.other_patient_id)
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.other_patient_id),
        resend_welcome=True,
        first_name="Changed",
        phone_number="+15554442244",
    )
    assert payload["messages"] is None
    assert await user_snapshot(database, world.a.other_patient_id) == before
    assert (await deliver(database, smtp_settings)).sent == 1
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["other.a@example.com"]
    assert "Welcome to" in mail.subject
    assert "Hello Other" in mail.part("plain")
    assert "/set_password?token=" in mail.link()  # no password yet: a fresh invitation link


async def test_a_welcome_to_a_patient_with_a_password_links_no_portal_by_default(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    # Carebook serves no portal: its base URL is an API, so no link rather than a dead end.
    await _update(api, world.a.provider.api_key, id=str(world.a.patient_id), resend_welcome=True)
    await deliver(database, smtp_settings)
    [mail] = mailbox.received
    for part in (mail.part("plain"), mail.part("html")):
        assert "set_password" not in part
        assert "portal" not in part and "http" not in part.replace("<!doctype html>", "")
        assert "\n\n\n" not in part  # the missing link leaves no hole
    assert "has added you as a client" in mail.part("plain")


async def test_a_welcome_links_the_configured_portal(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    portal = "https://portal.example.org/sign-in"
    await _update(api, world.a.provider.api_key, id=str(world.a.patient_id), resend_welcome=True)
    await deliver(database, smtp_settings.model_copy(update={"portal_url": portal}))
    [mail] = mailbox.received
    assert f"Open your client portal: {portal}" in mail.part("plain")
    assert f'href="{portal}"' in mail.part("html")


async def test_every_email_carries_a_date(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    await _update(api, world.a.provider.api_key, id=str(world.a.patient_id), resend_welcome=True)
    await deliver(database, smtp_settings)
    [mail] = mailbox.received
    date = parsedate_to_datetime(str(mail.message["Date"]))
    assert before <= date <= datetime.now(UTC)


async def test_intake_reminder_delivers_and_leaves_demographics_unchanged(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    before = await user_snapshot(database, world.a.patient_id)
    payload = await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        send_form_request_reminder=True,
        is_intake_item=True,
        last_name="Changed",
    )
    assert payload["messages"] is None
    assert payload["user"]["last_name"] == "IentA"
    assert await user_snapshot(database, world.a.patient_id) == before
    await deliver(database, smtp_settings)
    [mail] = mailbox.received
    assert "intake forms" in mail.subject
    assert "intake forms" in mail.part("html")


async def test_form_request_reminder_names_the_request_and_changes_nothing_else(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    key = world.a.provider.api_key
    created = await _request_form(
        api, key, recipient_id=str(world.a.patient_id), custom_module_form_id="12"
    )
    assert created["messages"] is None
    request = created["requestedFormCompletion"]
    assert request["status"] == "Not Started"
    assert request["custom_module_form_id"] == "12"
    assert request["recipient_id"] == str(world.a.patient_id)
    assert request["sender_id"] == str(world.a.provider.user_id)
    assert request["recipient"] == {"id": str(world.a.patient_id)}
    before = await user_snapshot(database, world.a.patient_id)

    payload = await _update(
        api,
        key,
        id=str(world.a.patient_id),
        send_form_request_reminder=True,
        requested_form_completion_id=request["id"],
        first_name="Changed",
    )

    assert payload["messages"] is None
    assert await user_snapshot(database, world.a.patient_id) == before
    [row] = await outbox_rows(database)
    assert row.kind == "form_request_reminder"
    await deliver(database, smtp_settings)
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["patient.a@example.com"]
    assert f"request #{request['id']}" in mail.part("plain")


async def test_a_reminder_for_another_patients_or_organizations_request_is_not_found(
    api: Api, world: World, database: Database
) -> None:
    other_patient = await _request_form(
        api,
        world.a.provider.api_key,
        recipient_id=str(world.a.other_patient_id),
        form="9",
    )
    other_org = await _request_form(
        api, world.b.provider.api_key, recipient_id=str(world.b.patient_id), form="9"
    )
    for request in (other_patient, other_org):
        payload = await _update(
            api,
            world.a.provider.api_key,
            id=str(world.a.patient_id),
            send_form_request_reminder=True,
            requested_form_completion_id=request["requestedFormCompletion"]["id"],
        )
        assert payload["messages"] == [
            {
                "field": "requested_form_completion_id",
                "message": "Requested form completion not found",
            }
        ]
    assert await outbox_rows(database) == []


async def test_creating_a_request_checks_its_input(api: Api, world: World) -> None:
    key = world.a.provider.api_key
    no_form = await _request_form(api, key, recipient_id=str(world.a.patient_id))
    assert [m["field"] for m in no_form["messages"]] == ["custom_module_form_id"]
    no_one = await _request_form(api, key, form="3")
    assert [m["field"] for m in no_one["messages"]] == ["recipient_id"]
    foreign = await _request_form(api, key, recipient_id=str(world.b.patient_id), form="3")
    assert foreign["messages"] == [
        {"field": "recipient_id", "message": f"Users not found: {world.b.patient_id}"}
    ]
    bad_type = await _request_form(
        api, key, recipient_id=str(world.a.patient_id), form="3", item_type="Video"
    )
    assert [m["field"] for m in bad_type["messages"]] == ["item_type"]
    patient = await api.with_token(world.a.patient_token).post(
        REQUEST_FORM, {"input": {"recipient_id": str(world.a.patient_id), "form": "3"}}
    )
    assert patient["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_listing_requests_is_scoped(api: Api, world: World) -> None:
    key = world.a.provider.api_key
    both = f"{world.a.patient_id},{world.a.other_patient_id}"
    created = await _request_form(api, key, recipient_ids=both, form="5")
    assert created["messages"] is None
    await _request_form(
        api, world.b.provider.api_key, recipient_id=str(world.b.patient_id), form="5"
    )

    staff = (await api.with_key(key).data(LIST_REQUESTS))["requestedFormCompletions"]
    assert sorted(r["recipient_id"] for r in staff) == sorted(
        [str(world.a.patient_id), str(world.a.other_patient_id)]
    )
    one = await api.with_key(key).data(LIST_REQUESTS, {"user_id": str(world.a.patient_id)})
    assert [r["recipient_id"] for r in one["requestedFormCompletions"]] == [str(world.a.patient_id)]
    done = await api.with_key(key).data(LIST_REQUESTS, {"status": "Completed"})
    assert done["requestedFormCompletions"] == []
    own = await api.with_token(world.a.patient_token).data(LIST_REQUESTS)
    assert [r["recipient_id"] for r in own["requestedFormCompletions"]] == [str(world.a.patient_id)]
    anonymous = await api.post(LIST_REQUESTS)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_no_reminder_for_a_request_completed_before_delivery(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    key = world.a.provider.api_key
    created = await _request_form(api, key, recipient_id=str(world.a.patient_id), form="4")
    request_id = created["requestedFormCompletion"]["id"]
    await _update(
        api,
        key,
        id=str(world.a.patient_id),
        send_form_request_reminder=True,
        requested_form_completion_id=request_id,
    )
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(RequestedFormCompletion).values(status=FormRequestStatus.COMPLETED)
        )
    assert (await deliver(database, smtp_settings)).failed == 1
    [row] = await outbox_rows(database)
    assert (row.status, row.last_error) == ("failed", "form request already completed")
    assert mailbox.received == []


async def test_a_fault_while_rendering_is_retried_not_lost(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    await _update(
        api,
        world.a.provider.api_key,
        id=str(world.a.patient_id),
        send_form_request_reminder=True,
        is_intake_item=True,
    )
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(OutboxMessage).values(kind="form_request_reminder"))
    report = await deliver(database, smtp_settings)
    assert report.retried == 1
    [row] = await outbox_rows(database)
    assert (row.status, row.last_error) == ("pending", "KeyError")
