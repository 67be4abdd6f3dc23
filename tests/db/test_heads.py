"""The readiness probe's migration heads, read without Alembic, are Alembic's own."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from carebook.db.heads import _assignments, code_heads
from carebook.db.migrate import alembic_config


def test_the_heads_are_alembics() -> None:
    expected = ScriptDirectory.from_config(alembic_config("")).get_heads()
    assert code_heads() == frozenset(expected)
    assert len(code_heads()) == 1


def test_a_merge_names_both_parents() -> None:
    source = 'revision: str = "c"\ndown_revision = ("a", "b")\nbranch_labels = None\n'
    assert _assignments(source) == {"revision": "c", "down_revision": ("a", "b")}
