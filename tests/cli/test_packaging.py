"""``carebook --version``, and the LICENSE file agreeing with pyproject.toml's licence."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _project() -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def test_version_prints_the_packages_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"carebook {_project()['version']}\n"


def test_the_license_file_is_the_declared_licence() -> None:
    assert _project()["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the whole licence, not a stub


def test_the_changelog_names_this_round() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {_project()['version']}" in changelog
    assert "issue 27" in changelog.lower()
