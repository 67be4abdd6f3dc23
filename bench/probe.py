"""One operation against a fresh ``carebook serve``, with the server's CPU time per request.

The full run (``python -m bench``) compares layers; this compares builds. A change's effect on
one operation is measured by running the probe on the same database with each build in turn,
alternating, several times: on a shared 2-core machine one run's throughput varies by a third,
while the server's CPU per request (all its processes, from /proc) varies much less.

    python -m bench.probe user                          # the current checkout
    python -m bench.probe user --src /tmp/before/src    # another build (e.g. a git worktree)
    python -m bench.probe createClient --workers 2 --seconds 10

It reuses the database and the world file of an earlier ``python -m bench`` run (``--quick`` for
the quick one); it never generates data.
"""

from __future__ import annotations

import argparse
import json
import resource
import uuid
from dataclasses import dataclass

from bench import spread
from bench.client import Stats, cpu_seconds, process_tree, run_driver, run_load
from bench.generate import Generated, settle
from bench.hashing import measure_hashing
from bench.operations import Operation, read_operations, write_operations
from bench.run import (
    carebook_command,
    carebook_env,
    default_database_url,
    free_port,
    graphql_caller,
    server,
    world_file,
)


@dataclass
class Probe:
    """What one probe measured."""

    operation: str
    stats: Stats
    cpu_ms_per_request: float
    # The load driver's own CPU (this process): it shares the machine's cores with the server.
    client_cpu_ms_per_request: float = 0.0

    def line(self) -> str:
        """The one-line summary printed by the command."""
        s = self.stats
        return (
            f"{self.operation}: {s.rps:.1f} req/s, median {s.median_ms:.2f} ms, "
            f"p99 {s.p99_ms:.2f} ms, errors {s.errors}, "
            f"server CPU {self.cpu_ms_per_request:.2f} ms per request, "
            f"client CPU {self.client_cpu_ms_per_request:.2f} ms"
        )


def find_operation(world: Generated, name: str, concurrency: int) -> Operation:
    """The benchmark operation called ``name`` (reads and writes, as the full run defines them)."""
    operations = read_operations(world, 1) + write_operations(
        world, uuid.uuid4().hex[:8], concurrency
    )
    for operation in operations:
        if operation.name == name:
            return operation
    known = ", ".join(o.name for o in operations)
    raise SystemExit(f"unknown operation {name!r}; one of: {known}")


async def measure(
    port: int,
    pid: int,
    world: Generated,
    operation: Operation,
    *,
    seconds: float,
    concurrency: int,
    workers: int,
) -> Probe:
    """Warm up, drive ``operation`` for ``seconds``, and read the server's CPU time around it."""
    caller = graphql_caller(port, world, operation)
    await spread.fill(caller, concurrency, pid, workers)
    if not operation.write:
        await run_load(
            operation.name, "warmup", caller, concurrency=concurrency, duration=2,
            max_requests=10**9, warmup=0,
        )  # fmt: skip
    pids = process_tree(pid)
    before, client_before = cpu_seconds(pids), _own_cpu_seconds()
    stats = await run_load(
        operation.name, "graphql", caller, concurrency=concurrency, duration=seconds,
        max_requests=10**9, warmup=0,
    )  # fmt: skip
    used, client_used = cpu_seconds(pids) - before, _own_cpu_seconds() - client_before
    await caller.close()
    count = max(stats.requests, 1)
    return Probe(
        operation.name, stats, round(used * 1000 / count, 2), round(client_used * 1000 / count, 2)
    )


def _own_cpu_seconds() -> float:
    """User + system CPU time of this process (the load driver) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.probe``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.probe", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "operation", help="A benchmark operation, e.g. user, users_first, createClient."
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="Use the --quick run's database.")
    parser.add_argument("--workers", type=int, default=1, help="carebook serve --workers.")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4, help="Requests in flight.")
    parser.add_argument("--src", help="Run carebook from this source folder (another build).")
    parser.add_argument(
        "--database-url", help="The database of that run, when not the default one."
    )
    args = parser.parse_args(argv)
    path = world_file(args.database, quick=args.quick)
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python -m bench` on this database first")
    world = Generated(**json.loads(path.read_text()))
    operation = find_operation(world, args.operation, args.concurrency)
    # --database-url, else the database the world was generated in (a run's own URL included).
    url = (
        args.database_url
        or world.database_url
        or default_database_url(args.database, quick=args.quick)
    )
    # No earlier run's events waiting for this server's fan-out, nor earlier runs' dead rows
    # (a bulk probe alone leaves some 200,000 in users): bench.generate.settle.
    run_driver(settle(url))
    port = free_port()
    command = carebook_command(url, args.workers, port)
    env = {
        **carebook_env(args.src),
        # signUp from one address to one provider, hundreds a second (bench/run.py's server)
        "CAREBOOK_SIGN_UP_ADDRESS_LIMIT": "0",
        "CAREBOOK_ENROLLMENT_TARGET_LIMIT": "0",
    }
    with server(command, env, port, "probe") as pid:
        probe = run_driver(
            measure(
                port,
                pid,
                world,
                operation,
                seconds=args.seconds,
                concurrency=args.concurrency,
                workers=args.workers,
            )
        )
    print(probe.line())
    if operation.name == "signUp":  # its ceiling, right after (bench/hashing.py)
        hashing = run_driver(
            measure_hashing(concurrency=args.concurrency, duration=args.seconds, max_requests=10**9)
        )
        share = probe.stats.rps / hashing.rps if hashing.rps else 0.0
        print(f"hashing alone: {hashing.rps:.1f} hashes/s; signUp / hashing = {share:.0%}")


if __name__ == "__main__":
    main()
