"""Every reference to a patient is classified: moved by a merge, or left with a reason.

A table another issue adds with a column referring to users fails here until it gets its line
in carebook/merges/registry.py, so a merge never silently leaves a patient's rows behind.
"""

from __future__ import annotations

from carebook.merges.registry import LEFT, MOVED
from carebook.tables import Base


def _references() -> set[tuple[str, str]]:
    return {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "users" for fk in column.foreign_keys)
    }


def test_every_reference_to_users_is_moved_or_left() -> None:
    moved = {(entry.table, entry.column) for entry in MOVED}
    assert moved & LEFT.keys() == set()
    assert _references() == moved | LEFT.keys()


def test_unique_columns_exist() -> None:
    """A misspelt unique column would make every row conflict-free, and a merge fail."""
    for entry in MOVED:
        table = Base.metadata.tables[entry.table]
        assert {entry.column, *entry.unique, *entry.unique_while_null} <= set(table.c.keys())
        if entry.held_by_user is not None:
            assert entry.held_by_user in Base.metadata.tables["users"].c


def test_every_moved_table_says_when_a_row_was_made() -> None:
    """unmergeClients moves a row back only if it was made before the merge (merges/moves.py):
    without ``created_at`` a key made again since (or an id SQLite gives again) would go back."""
    for entry in MOVED:
        assert "created_at" in Base.metadata.tables[entry.table].c, entry.table
