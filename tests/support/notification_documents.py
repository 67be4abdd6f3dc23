"""GraphQL documents of the notification settings, sent records and welcome email tests.

Written in the image of what Healthie integrations send: the input and payload types by their
Healthie names, variables declared with Healthie's types.
"""

from __future__ import annotations

from typing import Any

from tests.support.api import Api

SETTING_FIELDS = """id send_message_emails send_email_on_appointment_book
  send_email_on_appointment_cancel send_form_request_emails updated_at user { id }"""
UPDATE_SETTING = f"""mutation updateNotificationSetting($input: updateNotificationSettingInput) {{
  updateNotificationSetting(input: $input) {{
    notificationSetting {{ {SETTING_FIELDS} }}
    messages {{ field message }} }} }}"""
USER_SETTING = f"""query getUser($id: ID) {{
  user(id: $id) {{ id notification_setting {{ {SETTING_FIELDS} }} }} }}"""
SETTING_BY_ID = f"""query notificationSetting($id: ID) {{
  notificationSetting(id: $id) {{ {SETTING_FIELDS} }} }}"""
RECORDS = """query sentNotificationRecords(
  $patient_id: ID, $provider_id: ID, $org_level: Boolean, $should_paginate: Boolean,
  $offset: Int, $start_date: String, $end_date: String, $status: String, $type: String
) {
  sentNotificationRecords(
    patient_id: $patient_id, provider_id: $provider_id, org_level: $org_level,
    should_paginate: $should_paginate, offset: $offset, start_date: $start_date,
    end_date: $end_date, status: $status, type: $type
  ) {
    id category created_at delivery_status notification_description notification_type
    representation_type user_id
  }
}"""
RECORDS_COUNT = """query sentNotificationRecordsCount(
  $patient_id: ID, $provider_id: ID, $org_level: Boolean, $start_date: String,
  $end_date: String, $status: String, $type: String
) {
  sentNotificationRecordsCount(
    patient_id: $patient_id, provider_id: $provider_id, org_level: $org_level,
    start_date: $start_date, end_date: $end_date, status: $status, type: $type
  )
}"""
SEND_WELCOME = """mutation sendWelcomeEmail($input: SendWelcomeEmailInput) {
  sendWelcomeEmail(input: $input) { success_string messages { field message } } }"""


async def update_setting(caller: Api, **fields: Any) -> dict[str, Any]:
    """updateNotificationSetting's payload."""
    payload: dict[str, Any] = (await caller.data(UPDATE_SETTING, {"input": fields}))[
        "updateNotificationSetting"
    ]
    return payload


async def records(caller: Api, **arguments: Any) -> list[dict[str, Any]]:
    """sentNotificationRecords with these arguments."""
    rows: list[dict[str, Any]] = (await caller.data(RECORDS, arguments))["sentNotificationRecords"]
    return rows


async def records_count(caller: Api, **arguments: Any) -> int:
    """sentNotificationRecordsCount with these arguments."""
    count: int = (await caller.data(RECORDS_COUNT, arguments))["sentNotificationRecordsCount"]
    return count
