"""Typed inputs of the notification services (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingChanges:
    """``updateNotificationSetting``: whose setting (blank: the caller's) and the new values."""

    id: str | int | None = None
    send_message_emails: bool | None = None
    send_email_on_appointment_book: bool | None = None
    send_email_on_appointment_cancel: bool | None = None
    send_form_request_emails: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordFilter:
    """``sentNotificationRecords``: whose emails, and which.

    No patient and no provider: the caller's own. ``provider_id`` (staff only) wins over
    ``patient_id``: that provider's patients, or with ``org_level`` every patient of the
    organization. ``statuses`` are outbox statuses; ``kind`` matches an email's kind or its
    group (``forms``, ``appointments``). ``since`` inclusive, ``until`` exclusive.
    """

    patient_id: int | None = None
    provider_id: int | None = None
    org_level: bool = False
    statuses: tuple[str, ...] | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
