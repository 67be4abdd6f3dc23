"""The README's Layout names every package and top-level module of src/carebook and every
top-level folder of the repository: one added without a word there fails, so the map stays the
tree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "carebook"


def _layout_block() -> str:
    section = (ROOT / "README.md").read_text().split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```\n", 2)[1]


def _named(block: str) -> set[str]:
    """Every word of the block that looks like a folder (``name/``) or a module (``name.py``)."""
    return set(re.findall(r"([A-Za-z_][\w.]*/|[A-Za-z_]\w*\.py)", block))


def test_every_package_and_module_is_in_the_layout() -> None:
    named = _named(_layout_block())
    packages = {f"{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    modules = {p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    assert not (packages | modules) - named, sorted((packages | modules) - named)


def test_every_top_level_folder_is_in_the_layout() -> None:
    named = _named(_layout_block())
    folders = {
        f"{p.name}/"
        for p in ROOT.iterdir()
        if p.is_dir() and not p.name.startswith(".") and not p.name.endswith(".egg-info")
        and p.name not in {"build", "dist", "__pycache__"}
    }  # fmt: skip
    missing = folders - named
    assert not missing, sorted(missing)
