"""Every event type Carebook offers is fired by a test of this package, and the catalog holds
nothing the services do not emit (a name here that no test fires fails)."""

from __future__ import annotations

from pathlib import Path

from carebook.events.catalog import EVENT_TYPES

HERE = Path(__file__).parent


def test_every_catalog_event_is_fired_by_an_emission_test() -> None:
    tests = "".join(
        path.read_text() for path in HERE.glob("test_*.py") if path.name != Path(__file__).name
    )
    untested = [name for name in EVENT_TYPES if f'"{name}"' not in tests]
    assert untested == []
