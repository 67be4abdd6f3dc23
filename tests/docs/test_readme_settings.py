"""The README's Configuration table names every CAREBOOK_* setting there is, and no other: a
setting added to config.Settings without a row (or a row left behind by a removed one) fails."""

from __future__ import annotations

import re
from pathlib import Path

from carebook.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _table_names() -> set[str]:
    """The variables named in the first column of the "## Configuration" table."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    names: set[str] = set()
    for row in rows:
        first_cell = row.split("|")[1]
        names.update(re.findall(r"`(CAREBOOK_[A-Z0-9_]+)`", first_cell))
    return names


def _setting_names() -> set[str]:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}


def test_every_setting_has_a_row_in_the_readme() -> None:
    missing = _setting_names() - _table_names()
    assert not missing, f"settings the README's Configuration table does not name: {missing}"


def test_every_readme_row_is_a_setting() -> None:
    unknown = _table_names() - _setting_names()
    assert not unknown, f"README rows naming no setting of config.Settings: {unknown}"


def test_the_table_writes_names_in_full() -> None:
    # An abbreviation such as `_WINDOW_SECONDS` is a name nobody can paste into an environment.
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    assert not [cell for cell in first_cells if re.search(r"`_[A-Z]", cell)], first_cells
