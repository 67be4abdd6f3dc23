"""The details createAppointment and updateAppointment share, checked and applied to a row.

Each field is applied only when given (``None`` is absent, carebook.graphql.inputs); a blank text
clears it, as in Healthie. ``metadata`` is kept exactly as given: Healthie types it ``JSON``, and
integrations send either an object or a string of serialized JSON (Awell sends the latter), so
the value read back is the value sent, string or object.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from carebook.db import lengths
from carebook.errors import Invalid
from carebook.scheduling.inputs import AppointmentDetails
from carebook.scheduling.models import Appointment
from carebook.users import validation as v


def start_text(fields: AppointmentDetails) -> str | None:
    """The requested start: ``datetime``, else ``date`` and ``time`` together (None: neither)."""
    if fields.datetime is not None:
        return fields.datetime
    if fields.date is None and fields.time is None:
        return None
    if not (fields.date or "").strip():
        raise Invalid.field("date", "Date can't be blank when a time is given")
    if not (fields.time or "").strip():
        # A date alone names no time of day: Healthie needs time with date.
        raise Invalid.field("time", "Time can't be blank when a date is given")
    return f"{fields.date.strip()} {fields.time.strip()}"  # type: ignore[union-attr]


def one_attendee(value: str | None) -> int | None:
    """The patient named by ``attendee_ids`` (a 1:1 appointment has one), or None if absent."""
    ids = v.parse_id_list(value, "attendee_ids")["user"]
    if len(ids) > 1:
        raise Invalid.field("attendee_ids", "Group appointments are not supported: give one id")
    return ids[0] if ids else None


def clean_metadata(value: object) -> str:
    """Any JSON value, serialized; bounded like a patient's metadata."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text) > lengths.METADATA:
        raise Invalid.field(
            "metadata", f"Metadata is too large (at most {lengths.METADATA:,} characters)"
        )
    return text


def read_metadata(text: str | None) -> object:
    """The stored metadata as the JSON value it was given as."""
    return None if text is None else json.loads(text)


def clean_url(value: str) -> str | None:
    """An http(s) address for the video chat; blank clears it."""
    text = v.clean_text("external_videochat_url", value, limit=lengths.VIDEOCHAT_URL)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise Invalid.field(
            "external_videochat_url", "The video chat URL must be an http or https address"
        )
    return text


def apply_details(row: Appointment, fields: AppointmentDetails) -> None:
    """Set the given details on ``row`` (times, people, place and status are the
    services')."""
    if fields.contact_type is not None:
        row.contact_type = v.clean_text(
            "contact_type", fields.contact_type, limit=lengths.CONTACT_TYPE
        )
    if fields.notes is not None:
        row.reason = v.clean_text("notes", fields.notes, limit=lengths.APPOINTMENT_REASON)
    if fields.location is not None:
        row.location = v.clean_text("location", fields.location, limit=lengths.APPOINTMENT_LOCATION)
    if fields.external_videochat_url is not None:
        row.external_videochat_url = clean_url(fields.external_videochat_url)
    if fields.metadata is not None:
        row.appointment_metadata = clean_metadata(fields.metadata)
    if fields.client_confirmed is not None:
        row.client_confirmed = fields.client_confirmed
    if fields.confirmed is not None:
        row.confirmed = fields.confirmed
