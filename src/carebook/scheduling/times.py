"""Reading appointment times: Healthie's form or ISO 8601 (carebook/times.py), or a local time
plus an IANA zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from carebook import times
from carebook.errors import Invalid
from carebook.users.validation import clean_timezone


def parse_start(value: str | None, timezone: str | None, field: str) -> datetime:
    """An aware UTC datetime.

    A value with an offset (or ``Z``) means that instant; a value without one is a wall-clock
    time in ``timezone`` (IANA), which is then required. DST gaps and folds follow zoneinfo:
    the earlier of two ambiguous times (fold=0).
    """
    text = (value or "").strip()
    if not text:
        raise Invalid.field(field, "Date can't be blank")
    try:
        parsed = times.parse(text)
    except ValueError as error:
        raise Invalid.field(field, str(error)) from None
    if parsed.tzinfo is None:
        zone = clean_timezone(timezone)
        if zone is None:
            raise Invalid.field(
                "timezone", "Give the time with an offset (e.g. -05:00) or a timezone"
            )
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(UTC)
