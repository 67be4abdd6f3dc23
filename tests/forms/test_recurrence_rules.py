"""Healthie's recurrence inputs read as its UI sends them, and the next occurrence stepped in
the sender's zone (month ends, daylight saving time, the 12-hour clock, the last day)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from carebook.errors import Invalid
from carebook.forms.recurrence import Rule, next_after, rule_of


def _rule(**fields: str | bool | None) -> Rule:
    given: dict[str, str | bool | None] = dict.fromkeys(
        ("frequency", "weekday", "monthday", "hour", "minute", "period", "ends_on")
    )
    given["recurrence_ends"] = None
    given.update(fields)
    return rule_of(**given)  # type: ignore[arg-type]


def test_the_twelve_hour_clock_and_its_defaults() -> None:
    assert _rule(frequency="daily", hour="12", minute="5", period="am").at == time(0, 5)
    assert _rule(frequency="Daily", hour="12", period="PM").at == time(12, 0)
    assert _rule(frequency="Daily", hour="7", minute="45", period="pm").at == time(19, 45)
    assert _rule(frequency="Daily", hour="19").at == time(19, 0)  # no period: 24-hour clock
    assert _rule(frequency="Weekly", weekday="tuesday").at == time(9, 0)


def test_a_monthly_31st_falls_on_each_months_last_day() -> None:
    rule = _rule(frequency="Monthly", monthday="31st")
    zone = ZoneInfo("UTC")
    moment = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)
    seen = []
    for _ in range(4):
        step = next_after(rule, moment, zone)
        assert step is not None
        seen.append(step.date().isoformat())
        moment = step
    assert seen == ["2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]


def test_wall_clock_time_holds_across_daylight_saving_time() -> None:
    rule = _rule(frequency="Weekly", weekday="Monday", hour="8", minute="0", period="AM")
    zone = ZoneInfo("America/New_York")
    before = next_after(rule, datetime(2025, 3, 1, tzinfo=UTC), zone)
    after = next_after(rule, datetime(2025, 3, 9, tzinfo=UTC), zone)
    assert before == datetime(2025, 3, 3, 13, 0, tzinfo=UTC)  # EST, UTC-5
    assert after == datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # EDT, UTC-4


def test_ends_on_is_the_last_day_unless_the_recurrence_does_not_end() -> None:
    ending = _rule(frequency="Daily", hour="9", ends_on="2025-06-02", recurrence_ends=True)
    zone = ZoneInfo("UTC")
    assert next_after(ending, datetime(2025, 6, 2, 8, tzinfo=UTC), zone) is not None
    assert next_after(ending, datetime(2025, 6, 2, 10, tzinfo=UTC), zone) is None
    never = _rule(frequency="Daily", hour="9", ends_on="2025-06-02", recurrence_ends=False)
    assert next_after(never, datetime(2025, 6, 2, 10, tzinfo=UTC), zone) is not None
    with pytest.raises(Invalid):
        _rule(frequency="Daily", hour="9", recurrence_ends=True)
