"""Reading appointment times: ISO 8601 with an offset, or a local time plus an IANA zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from carebook.errors import Invalid
from carebook.users.validation import clean_timezone

# "2026-01-05 10:00:00 -0500" (Healthie's own format) -> "2026-01-05T10:00:00-05:00".
_SPACED_OFFSET = re.compile(r"^(\S+)[ T](\d{1,2}:\d{2}(?::\d{2})?)\s*([+-]\d{2}):?(\d{2})$")


def parse_start(value: str | None, timezone: str | None, field: str) -> datetime:
    """An aware UTC datetime.

    A value with an offset (or ``Z``) means that instant; a value without one is a wall-clock
    time in ``timezone`` (IANA), which is then required. DST gaps and folds follow zoneinfo:
    the earlier of two ambiguous times (fold=0).
    """
    text = (value or "").strip()
    if not text:
        raise Invalid.field(field, "Date can't be blank")
    match = _SPACED_OFFSET.match(text)
    if match:
        text = f"{match[1]}T{match[2]}{match[3]}:{match[4]}"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid.field(field, f"'{text[:40]}' is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        zone = clean_timezone(timezone)
        if zone is None:
            raise Invalid.field(
                "timezone", "Give the time with an offset (e.g. -05:00) or a timezone"
            )
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.astimezone(UTC)


def local_iso(value: datetime, timezone: str | None) -> str:
    """``value`` as ISO 8601 with the offset of ``timezone`` (UTC when unknown)."""
    try:
        zone = ZoneInfo(timezone) if timezone else UTC
    except (ValueError, KeyError):
        zone = UTC
    return value.astimezone(zone).isoformat()
