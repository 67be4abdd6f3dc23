"""The migration heads shipped with this code, read from the migration files themselves.

Readiness (carebook.db.health) compares them with the database's ``alembic_version``. Alembic's
own ``ScriptDirectory`` would tell the same, but importing Alembic (with Mako and Pygments behind
it) costs a serving worker about 0.3 s of start-up and 30 MB it never otherwise needs: the
migrations run in ``carebook serve``'s parent process, before any worker starts. So the heads
are read here, by the rule Alembic applies: the revisions no other revision names as its
``down_revision`` (tests/db/test_heads.py checks both agree).
"""

from __future__ import annotations

import ast
import functools
from importlib.resources import files

_VERSIONS = files("carebook.db") / "migrations" / "versions"


def _assignments(source: str) -> dict[str, object]:
    """The module-level ``name = literal`` (or annotated) assignments of a migration file."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            found[target.id] = ast.literal_eval(value)
    return found


def _names(value: object) -> set[str]:
    """A ``down_revision``: none, one revision, or several (a merge)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, tuple | list):
        return {str(item) for item in value}
    return set()


@functools.cache
def code_heads() -> frozenset[str]:
    """The heads of the packaged migrations (read once per process)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for entry in _VERSIONS.iterdir():
        # Alembic's own rule: every .py file but __init__ (and editor backups) is a revision.
        if not entry.name.endswith(".py") or entry.name == "__init__.py" or entry.name[0] in ".#":
            continue
        values = _assignments(entry.read_text(encoding="utf-8"))
        if "revision" in values:
            revisions.add(str(values["revision"]))
            parents |= _names(values.get("down_revision"))
    return frozenset(revisions - parents)
