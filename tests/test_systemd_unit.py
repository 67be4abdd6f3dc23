"""deploy/carebook.service: valid for systemd, and its command serves and stops as systemd runs it.

This machine's PID 1 is not systemd, so CI cannot `systemctl start` the unit. The test does the
two parts that can fail on their own: `systemd-analyze verify` on the unit (with its paths pointed
at this checkout's environment, as an installer's `sed` would), and the service's life under
systemd's rules: the environment from `Environment=` and `EnvironmentFile=`, the `ExecStart`
command split as systemd splits it, ready on /readyz, and a clean exit on `KillSignal` within
`TimeoutStopSec`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.serving import wait_until_healthy

UNIT = Path(__file__).resolve().parents[1] / "deploy" / "carebook.service"


def _directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def _installed(tmp_path: Path, port: int) -> tuple[Path, Path]:
    """The unit as an installer would write it for this checkout, and its environment file."""
    carebook = shutil.which("carebook") or f"{sys.executable} -m carebook.cli.main"
    env_file = tmp_path / "carebook.env"
    env_file.write_text(
        "# settings of the test's service\n"
        f"CAREBOOK_DATABASE_URL=sqlite+aiosqlite:///{tmp_path}/carebook.db\n"
        f"CAREBOOK_SECRET_KEY={os.urandom(16).hex()}\n"
        "CAREBOOK_ARGON2_TIME_COST=1\n"
        "CAREBOOK_ARGON2_MEMORY_COST_KIB=1024\n"
    )
    text = (
        UNIT.read_text()
        .replace("/opt/carebook/.venv/bin/carebook", carebook)
        .replace("/etc/carebook/carebook.env", str(env_file))
        .replace("/var/lib/carebook", str(tmp_path))
        .replace("--port 8000", f"--port {port}")
    )
    unit = tmp_path / "carebook.service"
    unit.write_text(text)
    return unit, env_file


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing (apt-get install systemd): the unit is unchecked")
    unit, _ = _installed(tmp_path, 8000)
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    # A directive systemd cannot parse is only a warning ("Failed to parse ..., ignoring"),
    # which would leave the service running without it: any output fails the test.
    assert (result.returncode, result.stderr.strip()) == (0, ""), result.stderr


def test_the_service_serves_and_stops_as_systemd_runs_it(tmp_path: Path) -> None:
    port = _free_port()
    unit, env_file = _installed(tmp_path, port)
    directives = _directives(unit.read_text())
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    for assignment in directives["Environment"]:
        key, _, value = assignment.partition("=")
        environment[key] = value
    for line in env_file.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            environment[key] = value
    [command] = directives["ExecStart"]
    [stop_after] = directives["TimeoutStopSec"]
    assert directives["KillSignal"] == ["SIGTERM"]
    # As this test does: the signal to the server alone, which stops its children itself.
    assert directives["KillMode"] == ["mixed"]
    process = subprocess.Popen(
        shlex.split(command),
        cwd=directives["WorkingDirectory"][0],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=int(stop_after)) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
