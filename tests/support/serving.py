"""Waiting for a ``carebook serve`` process the tests started to answer ``/healthz``.

The deadline is a liveness bound only: on a loaded machine the import alone has taken 20 s,
and waiting longer for a server that is still starting is harmless, while a server that exits
fails the test at once (with what it wrote on stderr).
"""

from __future__ import annotations

import subprocess
import time

import httpx

# Seconds a server may take to start (or, for one that must refuse to, to exit).
STARTUP_DEADLINE = 120.0


def wait_until_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    """Return once ``url``/healthz answers 200; fail as soon as ``process`` exits, or after
    STARTUP_DEADLINE seconds."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"carebook serve exited ({process.returncode}): {stderr}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet, or too busy to answer within the second
        if time.monotonic() >= deadline:
            raise AssertionError(f"carebook serve did not become healthy in {STARTUP_DEADLINE} s")
        time.sleep(0.2)
