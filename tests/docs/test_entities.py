"""docs/entities.md draws every table of carebook.tables' metadata and every foreign key between
them: a table or a reference added without its picture fails here."""

from __future__ import annotations

import re
from pathlib import Path

import carebook.tables  # noqa: F401  (imports every model, so the metadata holds every table)
from carebook.db.base import Base

PAGE = Path(__file__).resolve().parents[2] / "docs" / "entities.md"
DIAGRAM = re.compile(r"```mermaid\nerDiagram\n(.*?)\n```", re.S)
ENTITY = re.compile(r"^  (\w+) \{$", re.M)
# `parent ||--o{ child : "column"` (or |o-- where the column may be null)
RELATION = re.compile(r'^  (\w+) (?:\|\||\|o)--o\{ (\w+) : "(\w+)"$', re.M)


def _diagrams() -> list[str]:
    return DIAGRAM.findall(PAGE.read_text())


def test_every_table_is_drawn_once() -> None:
    drawn = [name for diagram in _diagrams() for name in ENTITY.findall(diagram)]
    assert sorted(drawn) == sorted(set(drawn)), "a table drawn in two pictures"
    assert set(drawn) == set(Base.metadata.tables)


def test_every_foreign_key_is_a_line() -> None:
    lines = {match for diagram in _diagrams() for match in RELATION.findall(diagram)}
    keys = {
        (key.column.table.name, table.name, key.parent.name)
        for table in Base.metadata.tables.values()
        for key in table.foreign_keys
    }
    assert keys == lines
