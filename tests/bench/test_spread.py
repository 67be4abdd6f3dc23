"""``bench.spread``: the load driver's connections are spread evenly over the worker processes."""

from __future__ import annotations

import time
from pathlib import Path

from bench.client import Connection, HttpCaller, process_tree
from bench.generate import Options, generate
from bench.run import carebook_command, carebook_env, free_port, server
from tests.support.serving import STARTUP_DEADLINE

from bench import spread


async def _wait_for_workers(port: int, server_pid: int, workers: int) -> None:
    """Return once ``workers`` processes have each accepted a connection: /healthz answers as
    soon as one worker is up, and on a loaded machine another may still be importing for many
    seconds, during which every connection goes to the first (no even split is possible)."""
    accepted: set[int] = set()
    deadline = time.monotonic() + STARTUP_DEADLINE
    while len(accepted) < workers:
        assert time.monotonic() < deadline, f"only {len(accepted)} workers accept connections"
        connection = Connection(port, {})
        await connection.open()
        try:
            found = await spread.owner(connection, server_pid)
        finally:
            await connection.close()
        if found is not None:
            accepted.add(found)


async def test_connections_are_spread_evenly_over_two_workers(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'spread.db'}"
    await generate(Options(url, 20, 5), log=lambda _: None)
    port = free_port()
    with server(carebook_command(url, 2, port), carebook_env(), port, "spread-test") as pid:
        await _wait_for_workers(port, pid, 2)
        connections, held = await spread.spread(port, {}, 4, pid, workers=2)
        try:
            # Two processes (the workers, not the supervisor) hold two connections each, and
            # each connection's owner is found again as one of them.
            assert sorted(held.values()) == [2, 2]
            assert set(held) <= set(process_tree(pid)) - {pid}
            owners = [await spread.owner(connection, pid) for connection in connections]
            assert sorted(owners.count(worker) for worker in held) == [2, 2]
        finally:
            for connection in connections:
                await connection.close()
        caller = HttpCaller(port, {}, lambda _i: ("/healthz", b""), lambda _s, _p: True)
        assert sorted((await spread.fill(caller, 2, pid, workers=2)).values()) == [1, 1]
        assert len(caller.idle) == 2
        await caller.close()
