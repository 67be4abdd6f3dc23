"""The fuzzing and crash-safety scripts start and describe their options.

Their full runs take minutes (see docs/security.md); this only catches a script that no longer
imports or parses its command line after a change elsewhere.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.mark.parametrize(
    ("script", "options"),
    [
        ("fuzz.py", ["--examples", "--minutes", "--database"]),
        ("crash_safety.py", ["--database", "--duration", "--workers", "--sqlite-synchronous"]),
        ("crash_safety_webhooks.py", ["--database", "--duration", "--receiver-delay", "--wait"]),
    ],
)
def test_script_help_lists_its_options(script: str, options: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in options:
        assert option in result.stdout
