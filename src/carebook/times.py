"""Date-times on the wire, as Healthie writes and reads them: the one serializer and parser.

Healthie types most date-time fields ``String`` and writes them ``yyyy-MM-dd HH:mm:ss ±hhmm``
(``2023-06-05 14:10:00 +0200``) in the time zone of whoever reads the answer: the viewer's own
zone, else their organization's, else UTC (:func:`zone_of`; the request resolves it once, with
its caller, so a page of a thousand users converts a thousand times and looks up nothing).
Inputs take that form and ISO 8601 alike (:func:`parse`). Domain-free: services and GraphQL types
use it the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Healthie's form, "2023-06-05 14:10:00 +0200" (also "+02:00", or no space before the offset).
_HEALTHIE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*([+-]\d{2}):?(\d{2})$"
)
EXAMPLES = "e.g. 2023-06-05 14:10:00 +0200 or 2023-06-05T14:10:00+02:00"


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    """Whether ``name`` is a known IANA time zone such as ``America/New_York``."""
    return name in _zones()


def zone_of(*names: str | None) -> tzinfo:
    """The first of ``names`` that is a known IANA time zone, else UTC."""
    for name in names:
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            continue
    return UTC


def render(value: datetime, zone: tzinfo) -> str:
    """``value`` in ``zone``, written as Healthie writes a date-time: ``2023-06-05 14:10:00 +0200``.

    A naive value is UTC (the database's convention, db/types.py).
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # isoformat and a slice: about half the cost of strftime, on the users list's hot path.
    # "2023-06-05 14:10:00+02:00" -> "2023-06-05 14:10:00 +0200" (an offset with seconds, only
    # ever a historic local mean time, keeps its hours and minutes).
    text = value.astimezone(zone).isoformat(" ", "seconds")
    return f"{text[:19]} {text[19:22]}{text[23:25]}"


def render_or_none(value: datetime | None, zone: tzinfo) -> str | None:
    """:func:`render`, or None for no value."""
    return None if value is None else render(value, zone)


def render_iso(value: datetime, zone: tzinfo) -> str:
    """``value`` in ``zone`` in ISO 8601 (``2023-06-05T14:10:00+02:00``), whole seconds: the
    form of the fields Healthie types ``ISO8601DateTime`` (a naive value is UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).isoformat("T", "seconds")


def render_iso_or_none(value: datetime | None, zone: tzinfo) -> str | None:
    """:func:`render_iso`, or None for no value."""
    return None if value is None else render_iso(value, zone)


def parse(text: str) -> datetime:
    """A date-time written in Healthie's form or in ISO 8601 (``Z`` included).

    The result keeps the offset it was written with; without one it is naive, and the caller
    says which zone that wall-clock time is in. Raises ValueError with a message for a client.
    """
    value = text.strip()
    match = _HEALTHIE.match(value)
    if match:
        clock = match[2] if match[2][1] != ":" else f"0{match[2]}"  # "9:00" is 09:00
        value = f"{match[1]}T{clock}{match[3]}:{match[4]}"
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{text.strip()[:40]}' is not a date and time ({EXAMPLES})") from None


def parse_in(text: str, zone: tzinfo) -> datetime:
    """:func:`parse`, in UTC; a value without an offset is a wall-clock time in ``zone`` (the
    reader's: the zone the answer's times are written in, as every date-time filter reads it)."""
    parsed = parse(text)
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)).astimezone(UTC)
