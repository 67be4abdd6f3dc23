"""Past one machine: how throughput of two ``carebook serve`` processes scales against one.

    python -m bench.scale --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/carebook_bench_x

Practices that outgrow one machine run several stateless ``carebook serve`` hosts on one
PostgreSQL. This starts one server and measures ``user(id)`` and the first ``users`` page, then
two servers on two ports (same database, same worker count each) and the same reads spread
evenly over both, with the same number of requests in flight in total. It reports both
throughputs, their ratio and the servers' CPU per request. On this 2-core machine the two
servers, PostgreSQL and the load driver share the cores, so the ratio is a floor of what two
hosts give; what it shows is that nothing in one process serializes the others (locks, a shared
counter, a single writer on the read path). PostgreSQL only: SQLite is one machine's file.

It reuses the database and world of an earlier ``python -m bench --database postgresql`` run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench import spread
from bench.client import HttpCaller, process_tree, run_driver, run_load
from bench.generate import Generated, settle
from bench.operations import Operation, read_operations
from bench.probe import cpu_seconds
from bench.run import (
    RESULTS,
    carebook_command,
    carebook_env,
    free_port,
    graphql_caller,
    log,
    server,
    world_file,
)

OPERATIONS = ("user", "users_first")


@dataclass
class Throughput:
    """One operation on ``servers`` servers."""

    operation: str
    servers: int
    rps: float
    p99_ms: float
    errors: int
    cpu_ms_per_request: float
    first_error: str | None = None


async def _drive(
    callers: list[HttpCaller], pids: list[int], operation: Operation, args: argparse.Namespace
) -> Throughput:
    """The reads spread evenly over ``callers`` (one per server), timed together."""
    share = max(1, args.concurrency // len(callers))
    for caller, pid in zip(callers, pids, strict=True):
        await spread.fill(caller, share, pid, args.workers)

    def call(index: int) -> Awaitable[tuple[bool, str | None]]:
        return callers[index % len(callers)](index)

    await run_load(
        operation.name, "warmup", call, concurrency=share * len(callers), duration=2,
        max_requests=10**9, warmup=0,
    )  # fmt: skip
    tree = [p for pid in pids for p in process_tree(pid)]
    before = cpu_seconds(tree)
    stats = await run_load(
        operation.name, f"{len(callers)} servers", call, concurrency=share * len(callers),
        duration=args.seconds, max_requests=10**9, warmup=0,
    )  # fmt: skip
    used = cpu_seconds(tree) - before
    for caller in callers:
        await caller.close()
    return Throughput(
        operation.name,
        len(callers),
        round(stats.rps, 1),
        round(stats.p99_ms, 2),
        stats.errors,
        round(used * 1000 / max(stats.requests, 1), 2),
        stats.first_error,
    )


async def measure(args: argparse.Namespace, world: Generated) -> list[Throughput]:
    """One server, then two, for each operation; the servers stay up across operations."""
    await settle(args.database_url)  # no earlier run's events for the servers, nor dead rows
    operations = [op for op in read_operations(world, 1) if op.name in OPERATIONS]
    env = {**carebook_env(args.src), "CAREBOOK_DATABASE_URL": args.database_url}
    ports = [free_port(), free_port()]
    results: list[Throughput] = []
    with contextlib.ExitStack() as stack:
        pids = [
            stack.enter_context(
                server(
                    carebook_command(args.database_url, args.workers, port),
                    env,
                    port,
                    f"scale-serve-{number}",
                )
            )
            for number, port in enumerate(ports, start=1)
        ]
        for operation in operations:
            for count in (1, 2, 1, 2)[: 2 * args.rounds]:
                callers = [graphql_caller(port, world, operation) for port in ports[:count]]
                result = await _drive(callers, pids[:count], operation, args)
                results.append(result)
                log(line(result))
    return results


def line(result: Throughput) -> str:
    """One measurement, as logged."""
    return (
        f"{result.operation:12} {result.servers} server(s) {result.rps:8.1f} req/s  p99 "
        f"{result.p99_ms:7.2f} ms  errors {result.errors}  server CPU "
        f"{result.cpu_ms_per_request:.2f} ms per request"
        + (f"  ({result.first_error[:200]})" if result.first_error else "")
    )


def markdown(results: list[Throughput], command: str) -> str:
    """The best round of each (operation, servers), and the ratio two / one."""
    best: dict[tuple[str, int], Throughput] = {}
    for result in results:
        key = (result.operation, result.servers)
        if key not in best or result.rps > best[key].rps:
            best[key] = result
    lines = [
        f"Scaling (`{command}`): best of the alternated rounds.",
        "",
        "| operation | 1 server req/s | 2 servers req/s | 2 / 1 | CPU ms/req 1 | CPU ms/req 2 "
        "| p99 ms 1 | p99 ms 2 | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in OPERATIONS:
        one, two = best.get((name, 1)), best.get((name, 2))
        if one is None or two is None:
            continue
        errors = sum(r.errors for r in results if r.operation == name)
        lines.append(
            f"| {name} | {one.rps:,.1f} | {two.rps:,.1f} | {two.rps / one.rps:.2f}x "
            f"| {one.cpu_ms_per_request:.2f} | {two.cpu_ms_per_request:.2f} "
            f"| {one.p99_ms:.2f} | {two.p99_ms:.2f} | {errors} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.scale``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database-url", required=True, help="The PostgreSQL bench database.")
    parser.add_argument("--workers", type=int, default=1, help="--workers of each server.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Per measurement.")
    parser.add_argument("--concurrency", type=int, default=16, help="In flight, in total.")
    parser.add_argument("--rounds", type=int, default=2, choices=(1, 2), help="1/2 alternations.")
    parser.add_argument("--src", help="Run carebook from this source folder (another build).")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("bench.scale measures several servers on one PostgreSQL database")
    path = world_file("postgresql", quick=False)
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python -m bench --database postgresql` first")
    world = Generated(**json.loads(path.read_text()))
    results = run_driver(measure(args, world))
    command = "python -m bench.scale " + " ".join(
        argv if argv is not None else __import__("sys").argv[1:]
    )
    document: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "results": [vars(r) for r in results],
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"scale-{stamp}.json").write_text(json.dumps(document, indent=2))
    print(markdown(results, command))


if __name__ == "__main__":
    main()
