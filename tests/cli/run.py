"""Running the ``carebook`` command in a subprocess against a test database."""

from __future__ import annotations

import os
import subprocess
import sys


def carebook(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``carebook ARGS`` with cheap password hashing; the caller checks the exit code."""
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url, "CAREBOOK_ARGON2_TIME_COST": "1",
           "CAREBOOK_ARGON2_MEMORY_COST_KIB": "1024"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
