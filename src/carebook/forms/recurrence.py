"""When a recurring form request falls due: Healthie's recurrence inputs, read and stepped.

Healthie describes a recurrence with strings: ``frequency`` ('Daily', 'Weekly', 'Monthly'),
``weekday`` ('Monday'), ``monthday`` ('1st'..'31st'), ``hour`` ('1'..'12'), ``minute`` ('0'..'59')
and ``period`` ('AM'/'PM'), plus ``ends_on`` (a date) when ``recurrence_ends``. Times are wall
clock times in the sender's zone; the stored occurrence times are UTC. Pure: no database.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from carebook.errors import Invalid

FREQUENCIES = ("Daily", "Weekly", "Monthly")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PERIODS = ("AM", "PM")
# A weekly or monthly request without a time of day is sent at 9:00 AM (Healthie's default is
# not documented; docs/api.md).
DEFAULT_TIME = time(9, 0)
_MONTHDAY = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")


@dataclass(frozen=True, slots=True)
class Rule:
    """A checked recurrence: what ``next_after`` steps."""

    frequency: str
    at: time
    weekday: int | None = None  # 0 is Monday
    monthday: int | None = None  # 1..31; a shorter month uses its last day
    ends_on: date | None = None


def _choice(field: str, value: str | None, allowed: tuple[str, ...]) -> str:
    text = (value or "").strip().capitalize() if field != "period" else (value or "").upper()
    if text not in allowed:
        raise Invalid.field(field, f"{field.capitalize()} must be one of {', '.join(allowed)}")
    return text


def _number(field: str, value: str | None, low: int, high: int) -> int:
    text = (value or "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise Invalid.field(field, f"{field.capitalize()} must be a number from {low} to {high}")
    return int(text)


def time_of_day(hour: str | None, minute: str | None, period: str | None) -> time | None:
    """``hour`` (1..12), ``minute`` and ``period`` as a time; None when no hour is given.

    An hour above 12 without a period is read on the 24-hour clock (0..23).
    """
    if hour in (None, "") and minute in (None, ""):
        return None
    if period in (None, ""):
        clock = _number("hour", hour, 0, 23)
    else:
        twelve = _number("hour", hour, 1, 12) % 12
        clock = twelve + (12 if _choice("period", period, PERIODS) == "PM" else 0)
    return time(clock, _number("minute", minute or "0", 0, 59))


def monthday_of(value: str | None) -> int:
    """'1st', '22nd', '31st' (or a bare number) as a day of the month."""
    match = _MONTHDAY.match((value or "").strip().lower())
    if match is None or not 1 <= int(match[1]) <= 31:
        raise Invalid.field(
            "monthday", "Monthday must be a day of the month such as '1st' or '15th'"
        )
    return int(match[1])


def ends_on_of(value: str | None) -> date:
    """The last day of a recurrence, 'yyyy-mm-dd' (a date-time's date part is taken)."""
    try:
        return date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        raise Invalid.field("ends_on", "Ends on must be a date, e.g. 2025-06-30") from None


def rule_of(
    *,
    frequency: str | None,
    weekday: str | None,
    monthday: str | None,
    hour: str | None,
    minute: str | None,
    period: str | None,
    ends_on: str | None,
    recurrence_ends: bool | None,
) -> Rule:
    """A :class:`Rule` from Healthie's inputs, or :class:`Invalid` naming the field at fault."""
    kind = _choice("frequency", frequency, FREQUENCIES)
    at = time_of_day(hour, minute, period)
    if kind == "Daily" and at is None:
        raise Invalid.field("hour", "A daily recurrence needs an hour")
    # ends_on counts unless the caller says the recurrence does not end.
    end = None
    if recurrence_ends is not False and ends_on not in (None, ""):
        end = ends_on_of(ends_on)
    elif recurrence_ends:
        raise Invalid.field("ends_on", "Ends on can't be blank when the recurrence ends")
    return Rule(
        frequency=kind,
        at=at or DEFAULT_TIME,
        weekday=WEEKDAYS.index(_choice("weekday", weekday, WEEKDAYS)) if kind == "Weekly" else None,
        monthday=monthday_of(monthday) if kind == "Monthly" else None,
        ends_on=end,
    )


def _on_day(rule: Rule, day: date) -> bool:
    if rule.frequency == "Weekly":
        return day.weekday() == rule.weekday
    if rule.frequency == "Monthly":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(rule.monthday or 1, last)
    return True


def next_after(rule: Rule, after: datetime, zone: tzinfo) -> datetime | None:
    """The first occurrence strictly after ``after`` (UTC), or None past ``ends_on``."""
    local = after.astimezone(zone)
    day = local.date()
    # At most a month and a bit ahead: every rule matches some day within 32 days.
    for _ in range(33):
        if rule.ends_on is not None and day > rule.ends_on:
            return None
        if _on_day(rule, day):
            candidate = datetime.combine(day, rule.at, tzinfo=zone).astimezone(UTC)
            if candidate > after:
                return candidate
        day += timedelta(days=1)
    return None  # pragma: no cover - every rule matches within 32 days


def interval_text(rule: Rule) -> str:
    """Healthie's ``interval``: '23:12' (daily), 'Monday' (weekly), '31st' (monthly)."""
    if rule.frequency == "Weekly":
        return WEEKDAYS[rule.weekday or 0]
    if rule.frequency == "Monthly":
        day = rule.monthday or 1
        suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        return f"{day}{suffix}"
    return rule.at.strftime("%H:%M")
