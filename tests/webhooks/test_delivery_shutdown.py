"""``carebook serve`` with its delivery process, stopped at several moments: the delivery process
never outlives the server.

A real server is started as users start it (``carebook serve``, CAREBOOK_WEBHOOK_DELIVERY
``process``) and stopped while its delivery process is still starting and once it runs, by
SIGTERM (the server stops its child before it exits) and by SIGKILL (the child notices its
server is gone and stops itself). The processes are read from /proc.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
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


def _signals(pid: int, field: str) -> int:
    """A signal set of /proc/PID/status (SigCgt: caught, SigIgn: ignored, ShdPnd: pending), as
    a mask whose bit ``n - 1`` is signal ``n``; empty once the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in lines:
        name, _, value = line.partition(":")
        if name == field:
            return int(value.strip(), 16)
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _in(mask: int, number: signal.Signals) -> bool:
    return bool(mask >> (number - 1) & 1)


def _handles_sigterm(pid: int) -> bool:
    """Whether ``pid`` catches SIGTERM: the delivery process does once its event loop runs
    (carebook.webhooks.process.run); before, SIGTERM ends it on the spot."""
    return _in(_signals(pid, "SigCgt"), signal.SIGTERM)


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


@pytest.fixture
def serve_group(database_url: str, database: Database, tmp_path: Path) -> Iterator[_Server]:
    """A ``carebook serve`` leading a process group of its own (as under systemd, or in a
    terminal), which a signal can reach whole."""
    server = _Server(database_url, tmp_path / "serve.log", own_group=True)
    try:
        yield server
    finally:
        server.kill_all()


class _Server:
    def __init__(self, database_url: str, log: Path, *, own_group: bool = False) -> None:
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
                start_new_session=own_group,
            )
        self.child: int | None = None
        # The delivery process held still (SIGSTOP) at start-up, until the stop reaches it.
        self.frozen: int | None = None

    def child_started(self) -> int:
        """Wait for the delivery process to exist (it is then still importing); its id."""

        def found() -> bool:
            assert self.process.poll() is None, self.log.read_text()
            self.child = _delivery_child(self.process.pid)
            return self.child is not None

        _until(found, "the delivery process starts")
        assert self.child is not None
        return self.child

    def child_starting(self) -> int:
        """The delivery process once it exists, held still (SIGSTOP) while it has yet to catch
        SIGTERM, that is before its event loop runs (it is importing); its id. The test fails
        if the process was found too late, rather than testing another moment."""
        child = self.child_started()
        os.kill(child, signal.SIGSTOP)
        _until(lambda: (_stat(child) or ["T"])[0] == "T", "the delivery process is held still")
        assert not _handles_sigterm(child), "found the delivery process after its start-up"
        self.frozen = child
        return child

    def child_running(self) -> int:
        """Wait for the delivery process to run its event loop (it then catches SIGTERM); its
        id."""
        child = self.child_started()
        _until(lambda: _handles_sigterm(child), "the delivery process handles SIGTERM")
        return child

    def answering(self) -> int:
        """Wait for the server to answer /healthz and its delivery process to run; its id."""
        wait_until_healthy(f"http://127.0.0.1:{self.port}", self.process)
        return self.child_running()

    def at(self, moment: str) -> int:
        """Wait for ``moment`` (one of MOMENTS); the delivery process's id."""
        return {
            MOMENTS[0]: self.child_starting,
            MOMENTS[1]: self.child_running,
            MOMENTS[2]: self.answering,
        }[moment]()

    def stop(self, number: signal.Signals) -> int:
        """Send ``number`` to the server; its exit status once it has exited. A delivery process
        held still at start-up is let go once the stop has reached it: the server's SIGTERM is
        pending in it, or its server is dead (its lifeline cut)."""
        self.process.send_signal(number)
        if self.frozen is not None:
            child = self.frozen
            if number == signal.SIGTERM:

                def pending() -> bool:
                    return _in(_signals(child, "ShdPnd"), signal.SIGTERM)

                _until(pending, "the server sends SIGTERM to its delivery process", EXIT_DEADLINE)
            else:
                self.process.wait(EXIT_DEADLINE)
            os.kill(child, signal.SIGCONT)
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
    "while the delivery process starts",  # held still before it catches SIGTERM
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


RESTARTED = "starting it again"  # the supervisor's line when it starts a dead child again
STOPPED_BY_SIGNAL = "webhook delivery process stopped by a signal"


@contextlib.contextmanager
def _request_in_flight(port: int) -> Iterator[None]:
    """A request whose body has yet to arrive, read by the server (its headers): the server's
    graceful stop waits for it, until the connection closes at the end of the block."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        client = connection.getsockname()[1]
        _until(lambda: _read_by_server(port, client), "the server reads the request")
        yield


def _read_by_server(port: int, client: int) -> bool:
    """Whether the server's end of the connection from local port ``client`` has nothing left
    to read (the receive queue of /proc/net/tcp is empty)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, queues = fields[1], fields[2], fields[4]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == client:
            return int(queues.split(":")[1], 16) == 0
    return False


def test_a_sigterm_to_the_whole_group_does_not_start_the_delivery_process_again(
    serve_group: _Server,
) -> None:
    """systemd's KillMode=control-group, or `kill -TERM -PGID`: the delivery process gets the
    SIGTERM too, and stops while its server still finishes a request."""
    serve = serve_group
    child = serve.answering()
    with _request_in_flight(serve.port):
        os.killpg(serve.process.pid, signal.SIGTERM)

        def logged() -> bool:
            return any(line in serve.log.read_text() for line in (STOPPED_BY_SIGNAL, RESTARTED))

        _until(logged, "the supervisor sees its delivery process stop", EXIT_DEADLINE)
    assert serve.process.wait(EXIT_DEADLINE) == -signal.SIGTERM
    log = serve.log.read_text()
    assert RESTARTED not in log, log
    assert not _running(child)


def test_ctrl_c_leaves_the_delivery_process_to_its_server(serve_group: _Server) -> None:
    """Ctrl-C in a terminal: SIGINT to the whole group. The delivery process ignores it and is
    stopped by its server, once the server's requests are done."""
    serve = serve_group
    child = serve.answering()
    assert _in(_signals(child, "SigIgn"), signal.SIGINT)
    with _request_in_flight(serve.port):
        os.killpg(serve.process.pid, signal.SIGINT)
        _until(lambda: "Shutting down" in serve.log.read_text(), "the server stops", EXIT_DEADLINE)
        assert _running(child)
    assert serve.process.wait(EXIT_DEADLINE) == 0
    log = serve.log.read_text()
    assert RESTARTED not in log and STOPPED_BY_SIGNAL not in log, log
    assert not _running(child)
