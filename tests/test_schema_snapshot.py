"""The committed schema.graphql must equal the live schema, so every API change shows in review."""

from pathlib import Path

from carebook.graphql.schema import build_schema

SNAPSHOT = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_committed_schema_matches_live_schema() -> None:
    live = build_schema().as_str() + "\n"
    assert SNAPSHOT.read_text() == live, "schema changed: run `carebook schema > schema.graphql`"


def test_every_field_and_type_has_a_description() -> None:
    schema = build_schema()._schema
    missing = []
    for name, gql_type in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Boolean", "ID", "Int", "Float"}:
            continue
        if not gql_type.description:
            missing.append(name)
        for field_name, field in getattr(gql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
    assert missing == []
