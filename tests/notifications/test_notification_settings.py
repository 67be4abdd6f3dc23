"""Notification settings: read and changed as Healthie's clients do, honoured by the outbox
end to end (a real SMTP server), and kept to their owner and the owner's practice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.support.api import Api
from tests.support.emails import REQUEST_FORM, UPDATE_CLIENT, deliver, outbox_rows, with_smtp
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.notification_documents import (
    SETTING_BY_ID,
    USER_SETTING,
    records,
    records_count,
    update_setting,
)
from tests.support.world import World

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.notifications.models import NotificationSetting

ALL_ON = {
    "send_message_emails": True,
    "send_email_on_appointment_book": True,
    "send_email_on_appointment_cancel": True,
    "send_form_request_emails": True,
}
NOT_FOUND = [{"field": "id", "message": "Notification setting not found"}]
TURNED_OFF = [
    {
        "field": "send_form_request_reminder",
        "message": "This client has turned off form request emails in their notification settings",
    }
]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """Settings delivering to the test's SMTP server."""
    return with_smtp(settings, mailbox.url)


def _preferences(setting: dict[str, Any]) -> dict[str, Any]:
    return {name: setting[name] for name in ALL_ON}


async def _stored_settings(database: Database) -> int:
    async with database.read_sessions() as session:
        query = select(func.count()).select_from(NotificationSetting)
        return int((await session.execute(query)).scalar_one())


async def _remind(api: Api, world: World, **reminder: Any) -> dict[str, Any]:
    fields = {"id": str(world.a.patient_id), "send_form_request_reminder": True, **reminder}
    payload: dict[str, Any] = (
        await api.with_key(world.a.provider.api_key).data(UPDATE_CLIENT, {"input": fields})
    )["updateClient"]
    return payload


async def test_a_setting_never_changed_has_every_preference_on(
    api: Api, world: World, database: Database
) -> None:
    data = await api.with_key(world.a.staff.api_key).data(
        USER_SETTING, {"id": str(world.a.patient_id)}
    )
    setting = data["user"]["notification_setting"]
    assert setting["id"] == str(world.a.patient_id)
    assert _preferences(setting) == ALL_ON
    assert setting["updated_at"] is None
    assert setting["user"] == {"id": str(world.a.patient_id)}
    assert await _stored_settings(database) == 0  # reading writes nothing


async def test_a_patient_turns_form_request_emails_off_and_gets_none_until_back_on(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    patient = api.with_token(world.a.patient_token)
    payload = await update_setting(patient, send_form_request_emails=False)
    assert not payload["messages"]
    setting = payload["notificationSetting"]
    assert setting["id"] == str(world.a.patient_id)
    assert _preferences(setting) == {**ALL_ON, "send_form_request_emails": False}
    assert re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$", setting["updated_at"])

    created = (
        await api.with_key(world.a.provider.api_key).data(
            REQUEST_FORM,
            {"input": {"recipient_id": str(world.a.patient_id), "custom_module_form_id": "7"}},
        )
    )["createRequestedFormCompletion"]["requestedFormCompletion"]
    by_request = await _remind(api, world, requested_form_completion_id=created["id"])
    intake = await _remind(api, world, is_intake_item=True)
    assert by_request["messages"] == TURNED_OFF
    assert intake["messages"] == TURNED_OFF
    assert await outbox_rows(database) == []
    assert (await deliver(database, smtp_settings)).sent == 0
    assert mailbox.received == []

    # Other emails are not form requests: the welcome email still goes out.
    welcome = await _remind(api, world, send_form_request_reminder=None, resend_welcome=True)
    assert not welcome["messages"]

    await update_setting(patient, send_form_request_emails=True)
    again = await _remind(api, world, requested_form_completion_id=created["id"])
    assert not again["messages"]
    assert (await deliver(database, smtp_settings)).sent == 2
    assert [m.rcpt_tos for m in mailbox.received] == [["patient.a@example.com"]] * 2
    assert "Welcome to" in mailbox.received[0].subject
    assert f"request #{created['id']}" in mailbox.received[1].part("plain")


async def test_only_the_given_preferences_change(api: Api, world: World) -> None:
    patient = api.with_token(world.a.patient_token)
    await update_setting(patient, send_message_emails=False, send_email_on_appointment_book=False)
    payload = await update_setting(patient, send_message_emails=True)
    assert _preferences(payload["notificationSetting"]) == {
        **ALL_ON,
        "send_email_on_appointment_book": False,
    }
    # An explicit null is an absent field, as in Healthie.
    payload = await update_setting(patient, send_email_on_appointment_cancel=None)
    assert _preferences(payload["notificationSetting"]) == {
        **ALL_ON,
        "send_email_on_appointment_book": False,
    }


async def test_staff_change_a_patients_setting_by_its_id(api: Api, world: World) -> None:
    staff = api.with_key(world.a.staff.api_key)
    payload = await update_setting(
        staff, id=str(world.a.other_patient_id), send_email_on_appointment_cancel=False
    )
    assert not payload["messages"]
    assert payload["notificationSetting"]["id"] == str(world.a.other_patient_id)
    read = await staff.data(SETTING_BY_ID, {"id": str(world.a.other_patient_id)})
    assert read["notificationSetting"]["send_email_on_appointment_cancel"] is False
    # A provider's or staff member's own setting, without an id.
    mine = await update_setting(staff, send_message_emails=False)
    assert mine["notificationSetting"]["id"] == str(world.a.staff.user_id)


async def test_no_one_reads_or_changes_a_setting_outside_their_reach(
    api: Api, world: World, database: Database
) -> None:
    patient = api.with_token(world.a.patient_token)
    other_patient, other_org_patient = str(world.a.other_patient_id), str(world.b.patient_id)
    attempts = [
        (patient, other_patient),  # another patient of the practice
        (patient, str(world.a.provider.user_id)),  # the patient's own provider
        (api.with_key(world.b.provider.api_key), other_patient),  # another practice
        (api.with_key(world.a.provider.api_key), other_org_patient),
        (api.with_key(world.a.provider.api_key), str(world.a.staff.user_id)),  # a colleague
        (patient, "99999999"),
    ]
    for caller, setting_id in attempts:
        payload = await update_setting(caller, id=setting_id, send_message_emails=False)
        assert payload == {"notificationSetting": None, "messages": NOT_FOUND}, setting_id
        read = await caller.data(SETTING_BY_ID, {"id": setting_id})
        assert read == {"notificationSetting": None}, setting_id
    assert await _stored_settings(database) == 0

    malformed = await update_setting(patient, id="abc", send_message_emails=False)
    assert malformed["messages"] == [{"field": "id", "message": "'abc' is not a valid id"}]

    # Through the User: the patient's own setting, never another user's.
    own = await patient.data(SETTING_BY_ID, {"id": None})
    assert own["notificationSetting"]["id"] == str(world.a.patient_id)
    provider = await patient.data(
        """query($id: ID) { user(id: $id) { id } currentUser {
             dietitian { id notification_setting { id } } notification_setting { id } } }""",
        {"id": other_patient},
    )
    assert provider["user"] is None
    assert provider["currentUser"]["dietitian"]["notification_setting"] is None
    assert provider["currentUser"]["notification_setting"] == {"id": str(world.a.patient_id)}


async def test_updating_a_setting_needs_a_signed_in_caller(api: Api) -> None:
    codes = await api.error_codes(
        "mutation { updateNotificationSetting(input: {send_message_emails: false}) "
        "{ messages { message } } }"
    )
    assert codes == ["UNAUTHENTICATED"]


async def test_an_email_queued_before_it_was_turned_off_is_skipped_not_sent(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    queued = await _remind(api, world, is_intake_item=True)
    assert not queued["messages"]
    patient = api.with_token(world.a.patient_token)
    await update_setting(patient, send_form_request_emails=False)

    report = await deliver(database, smtp_settings)

    assert (report.sent, report.skipped, report.failed) == (0, 1, 0)
    assert mailbox.received == []
    [row] = await outbox_rows(database)
    assert (row.status, row.last_error) == ("skipped", None)
    [record] = await records(patient)
    assert record["delivery_status"] == "skipped"
    assert await records_count(patient, status="skipped") == 1
