"""A SIGKILL of carebook serve loses no committed event: scripts/crash_safety_webhooks.py, short."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_acknowledged_change_is_delivered_after_a_kill(backend: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "crash_safety_webhooks.py"),
            "--database",
            backend,
            "--duration",
            "2",
            "--workers",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = dict(item.split("=") for item in result.stdout.split() if "=" in item)
    assert int(figures["acknowledged_creates"]) > 0
    assert figures["missing_after_restart"] == "0"
    # The kill cut sends in flight, and each was sent again after the restart.
    assert int(figures["sends_cut_by_kill"]) > 0
    assert figures["cut_sends_sent_again"] == figures["sends_cut_by_kill"]
