"""``carebook serve --workers 2`` starts both workers, even when a worker takes longer than
uvicorn's default 5 s health check to start (importing the app took 5.3 s on a loaded machine)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
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


def _serve_two_workers(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``carebook serve --workers 2`` as users start it, its output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "carebook.cli.main", "serve", "--workers", "2",
             "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def test_two_slow_workers_both_start(database_url: str, database: Database, tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(SLOW_WORKERS)
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "CAREBOOK_DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    process = _serve_two_workers(port, env, log)
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


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (reaped, or a zombie whose new parent has not reaped it
    yet: in a container, process 1 may never reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_the_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    """SIGKILL of ``carebook serve --workers 2`` itself: each worker stops gracefully on its own
    (cli/worker.py) instead of serving on, orphaned. A SQLite file of its own: no database of the
    test's is needed, so the test runs once."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "CAREBOOK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"}
    process = _serve_two_workers(port, env, log)
    pids: set[int] = set()
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        pids = {int(pid) for pid in STARTED.findall(_log_of_two_ready_workers(log, process))}
        assert len(pids) == 2
        process.kill()
        process.wait(timeout=60)
        deadline = time.monotonic() + STARTUP_DEADLINE  # a liveness bound, not a timing
        while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        text = log.read_text()
        assert all(_gone(pid) for pid in pids), f"workers still running:\n{text}"
        for pid in pids:  # uvicorn's graceful stop ran, not a kill
            assert f"Finished server process [{pid}]" in text, text
    finally:
        process.kill()
        process.wait(timeout=60)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
