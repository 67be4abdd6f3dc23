"""The patient list has one way in: the rest of Carebook imports only search's public names.

``carebook.search`` (``page``, ``count``, ``ListArgs``, ``SearchState``), the token index's
write side (``search.index``) and the tables the registry needs (``search.models``,
``search.counters``). And ``users`` imports nothing of search: search sits above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import carebook

SOURCE = Path(carebook.__file__).parent
OPEN = {"carebook.search", "carebook.search.index", "carebook.search.models"}
OPEN_TO_THE_REGISTRY_AND_TOOLS = {"carebook.search.counters"}


def _imports(path: Path) -> set[str]:
    """The carebook modules ``path`` imports (``from carebook import search`` included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("carebook.")}


def _outside(package: str) -> list[Path]:
    return [p for p in SOURCE.rglob("*.py") if not p.is_relative_to(SOURCE / package)]


def _search_module(name: str) -> bool:
    """True for a module of the search package (not a name imported from one)."""
    inner = name.removeprefix("carebook.search.")
    return inner != name and "." not in inner and (SOURCE / "search" / f"{inner}.py").exists()


def test_only_the_entry_point_the_hook_and_the_tables_are_imported_from_search() -> None:
    allowed = OPEN | OPEN_TO_THE_REGISTRY_AND_TOOLS
    reached = {
        f"{path.relative_to(SOURCE)}: {name}"
        for path in _outside("search")
        for name in _imports(path)
        if _search_module(name) and name not in allowed
    }
    assert not reached


def test_users_imports_nothing_of_search() -> None:
    found = {
        f"{path.relative_to(SOURCE)}: {name}"
        for path in (SOURCE / "users").rglob("*.py")
        for name in _imports(path)
        if name == "carebook.search" or name.startswith("carebook.search.")
    }
    assert not found
