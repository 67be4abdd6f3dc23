"""``bench.spread``: the load driver's connections are spread evenly over the worker processes."""

from __future__ import annotations

from pathlib import Path

from bench.client import HttpCaller, process_tree
from bench.generate import Options, generate
from bench.run import carebook_command, free_port, server

from bench import spread


async def test_connections_are_spread_evenly_over_two_workers(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'spread.db'}"
    await generate(Options(url, 20, 5), log=lambda _: None)
    port = free_port()
    with server(carebook_command(url, 2, port), {}, port, "spread-test") as pid:
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
