"""``carebook serve --workers 2`` starts both workers, even when a worker takes longer than
uvicorn's default 5 s health check to start (importing the app took 5.3 s on a loaded machine)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from carebook.db.engine import Database
from tests.support.mailbox import free_port
from tests.support.serving import STARTUP_DEADLINE, wait_until_healthy

# Makes every spawned worker start slowly, as a loaded machine did: it runs at interpreter start
# in the processes multiprocessing spawns (their command line ends with --multiprocessing-fork),
# before the worker can answer uvicorn's health check.
SLOW_WORKERS = """import sys, time
if "--multiprocessing-fork" in sys.argv:
    time.sleep(8)
"""
STARTED = re.compile(r"Started server process \[(\d+)\]")
READY = "Application startup complete"


def _log_of_two_ready_workers(log: Path, process: subprocess.Popen[bytes]) -> str:
    """The server's log once two workers said they are ready (bounded wait)."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        text = log.read_text()
        if text.count(READY) >= 2:
            return text
        assert process.poll() is None, text
        time.sleep(0.2)
    raise AssertionError(f"two workers never became ready:\n{log.read_text()}")


def test_two_slow_workers_both_start(database_url: str, database: Database, tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(SLOW_WORKERS)
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "CAREBOOK_DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "carebook.cli.main", "serve", "--workers", "2",
             "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        text = _log_of_two_ready_workers(log, process)
        # Exactly the two first workers: none was killed and replaced.
        pids = set(STARTED.findall(text))
        assert len(pids) == 2, text
        assert " died" not in text and "not ready in time" not in text, text
        for pid in pids:
            os.kill(int(pid), 0)  # alive
        assert httpx.get(f"http://127.0.0.1:{port}/livez", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=60)
