"""``carebook serve`` with its delivery process, stopped at several moments: the delivery process
never outlives the server.

A real server is started as users start it (``carebook serve``, CAREBOOK_WEBHOOK_DELIVERY
``process``) and stopped while its delivery process is still starting and once it runs, by
SIGTERM (the server stops its child before it exits) and by SIGKILL (the child notices its
server is gone and stops itself). The processes are read from /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from carebook.db.engine import Database
from tests.support.serving import STARTUP_DEADLINE, wait_until_healthy
from tests.test_serve_e2e import _free_port

DELIVERY_MODULE = b"carebook.cli.delivery"
# Liveness bounds, not timings: a loaded machine is slow, a stuck process never ends.
EXIT_DEADLINE = 60.0


def _stat(pid: int) -> list[str] | None:
    """Fields 3 onwards of /proc/PID/stat (state, ppid, ...), or None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie has ended; only its parent has yet to reap it)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _delivery_child(server: int) -> int | None:
    """The running delivery process started by ``server``, if any."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _stat(int(entry))
        if stat is None or stat[0] == "Z" or int(stat[1]) != server:
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if DELIVERY_MODULE in command:
            return int(entry)
    return None


def _nice(pid: int) -> int | None:
    stat = _stat(pid)
    return None if stat is None else int(stat[16])


def _until(
    condition_met: Callable[[], bool], what: str, deadline: float = STARTUP_DEADLINE
) -> None:
    end = time.monotonic() + deadline
    while not condition_met():
        assert time.monotonic() < end, f"not within {deadline} s: {what}"
        time.sleep(0.02)


@pytest.fixture
def serve(database_url: str, database: Database, tmp_path: Path) -> Iterator[_Server]:
    """A ``carebook serve`` with a delivery process; whatever is left is killed afterwards."""
    server = _Server(database_url, tmp_path / "serve.log")
    try:
        yield server
    finally:
        server.kill_all()


class _Server:
    def __init__(self, database_url: str, log: Path) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CAREBOOK_")}
        environment |= {
            "CAREBOOK_DATABASE_URL": database_url,
            "CAREBOOK_WEBHOOK_DELIVERY": "process",
        }
        self.log, self.port = log, _free_port()
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "carebook.cli.main", "serve", "--port", str(self.port)],
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.child: int | None = None

    def child_started(self) -> int:
        """Wait for the delivery process to exist (it is then still importing); its id."""

        def found() -> bool:
            assert self.process.poll() is None, self.log.read_text()
            self.child = _delivery_child(self.process.pid)
            return self.child is not None

        _until(found, "the delivery process starts")
        assert self.child is not None
        return self.child

    def child_running(self) -> int:
        """Wait for the delivery process to run its event loop: it lowers its priority just
        before (carebook.webhooks.process.main); its id."""
        child = self.child_started()
        lowered = min(os.nice(0) + 10, 19)
        _until(lambda: _nice(child) == lowered, "the delivery process lowers its priority")
        return child

    def answering(self) -> int:
        """Wait for the server to answer /healthz and its delivery process to run; its id."""
        wait_until_healthy(f"http://127.0.0.1:{self.port}", self.process)
        return self.child_running()

    def at(self, moment: str) -> int:
        """Wait for ``moment`` (one of MOMENTS); the delivery process's id."""
        return {
            MOMENTS[0]: self.child_started,
            MOMENTS[1]: self.child_running,
            MOMENTS[2]: self.answering,
        }[moment]()

    def stop(self, number: signal.Signals) -> int:
        """Send ``number`` to the server; its exit status once it has exited."""
        self.process.send_signal(number)
        try:
            return self.process.wait(EXIT_DEADLINE)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"carebook serve still runs {EXIT_DEADLINE} s after {number!r}"
            ) from None

    def kill_all(self) -> None:
        for pid in (self.process.pid, self.child):
            if pid is not None and _running(pid):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()


MOMENTS = [
    "while the delivery process starts",
    "once it runs",
    "once the server answers",  # how tests/cli/test_secret_key.py stops it
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_sigterm_stops_the_delivery_process_before_the_server_exits(
    serve: _Server, moment: str
) -> None:
    child = serve.at(moment)
    assert serve.stop(signal.SIGTERM) == -signal.SIGTERM  # dies of the signal, as uvicorn has it
    assert not _running(child), serve.log.read_text()


@pytest.mark.parametrize("moment", MOMENTS[:2])
def test_the_delivery_process_stops_once_its_server_is_killed(serve: _Server, moment: str) -> None:
    child = serve.at(moment)
    assert serve.stop(signal.SIGKILL) == -signal.SIGKILL
    _until(lambda: not _running(child), "the orphaned delivery process stops", EXIT_DEADLINE)
