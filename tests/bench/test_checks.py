"""The bench's in-process look-up timer (bench.checks) runs the server's own look-ups."""

from __future__ import annotations

import bench.checks
import pytest

from carebook.config import Settings
from carebook.db.engine import Database


async def test_each_look_up_is_timed_on_the_database(
    settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.checks, "CALLS", 10)
    timed = await bench.checks.measure(settings.database_url)
    assert set(timed) == {
        "patient_email_taken",
        "staff_ids_in_org",
        "actor_from_api_key",
        "get_visible_patient",
        "recorded_duplicate_pairs",
    }
    assert all(ms > 0 for ms in timed.values())
