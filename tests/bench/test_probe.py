"""``python -m bench.probe``: one operation against a real ``carebook serve``, with its CPU time."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from bench.generate import Options, generate
from bench.probe import cpu_seconds, find_operation, measure
from bench.run import carebook_command, carebook_env, free_port, server


def test_cpu_seconds_counts_this_process() -> None:
    before = cpu_seconds([os.getpid()])
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert cpu_seconds([os.getpid()]) - before >= 0.1
    assert cpu_seconds([2**22 + 7]) == 0  # a process that does not exist counts nothing


def test_another_build_runs_as_a_module() -> None:
    command = carebook_command("sqlite+aiosqlite:///x.db", 2, 8123)
    assert command[1:4] == ["-m", "carebook.cli.main", "serve"]
    assert command[command.index("--workers") + 1] == "2"
    # The other build's source comes first on the path its workers inherit.
    assert carebook_env("/elsewhere/src")["PYTHONPATH"].split(os.pathsep)[0] == "/elsewhere/src"


async def test_a_probe_measures_the_server(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}"
    world = await generate(Options(url, 50, 3), log=lambda _: None)
    with pytest.raises(SystemExit, match="unknown operation"):
        find_operation(world, "no_such_operation", 2)
    operation = find_operation(world, "user", 2)
    port = free_port()
    with server(carebook_command(url, 1, port), carebook_env(), port, "probe-test") as pid:
        probe = await measure(port, pid, world, operation, seconds=1, concurrency=2, workers=1)
    assert probe.stats.requests > 0 and probe.stats.errors == 0
    # The server's processes did the work: some CPU time, and no more than 2 cores over the
    # measured second (plus slack for the clock's 10 ms ticks).
    server_cpu_ms = probe.cpu_ms_per_request * probe.stats.requests
    assert 0 < server_cpu_ms <= 2 * 1000 * 1.5
    assert "server CPU" in probe.line()
