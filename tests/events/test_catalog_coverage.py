"""Every event type Carebook offers is fired by a test of this package, and the catalog holds
nothing the services do not emit (a name here that no test fires fails)."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLObjectType, build_schema

from carebook.events.catalog import EVENT_TYPES
from carebook.locations import service as location_service
from carebook.scheduling import events as appointment_events
from carebook.users import events as patient_events

HERE = Path(__file__).parent


def test_every_catalog_event_is_fired_by_an_emission_test() -> None:
    tests = "".join(
        path.read_text() for path in HERE.glob("test_*.py") if path.name != Path(__file__).name
    )
    untested = [name for name in EVENT_TYPES if f'"{name}"' not in tests]
    assert untested == []


def test_resource_types_and_changed_field_names_are_fields_of_the_api() -> None:
    """A receiver queries the resource back by ``resource_id_type`` and reads the fields
    ``changed_fields`` names: each must exist in Carebook's schema under that name."""
    schema = build_schema((HERE.parents[1] / "schema.graphql").read_text())
    for event in EVENT_TYPES.values():
        assert isinstance(schema.type_map.get(event.resource_type), GraphQLObjectType), event
    wire_names = {
        "User": [*patient_events.WIRE_NAMES.values(), patient_events.CARE_TEAM_FIELD],
        "Location": list(location_service.WIRE_NAMES.values()),
        "Appointment": list(appointment_events.WIRE_NAMES.values()),
    }
    for type_name, names in wire_names.items():
        type_ = schema.type_map[type_name]
        assert isinstance(type_, GraphQLObjectType)
        assert [name for name in names if name not in type_.fields] == [], type_name
