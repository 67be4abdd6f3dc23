"""``python -m bench.under_load``: the under-load phase alone (bench/load.py), on the database
and world of an earlier ``python -m bench`` run, for any build (``--src``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench.client import HttpCaller, run_driver
from bench.generate import Generated, settle
from bench.load import CLIENTS, gc_env, measure_under_load, with_gc_probe
from bench.operations import Operation, extra_reads, read_operations
from bench.run import (
    RESULTS,
    carebook_command,
    carebook_env,
    default_database_url,
    free_port,
    graphql_caller,
    root_fields,
    server,
    world_file,
)


async def _main(args: argparse.Namespace, world: Generated, url: str) -> list[dict[str, Any]]:
    await settle(url)  # no earlier run's events for its server's fan-out, nor dead rows
    port = free_port()
    folder = RESULTS / "gc-load"
    env = {
        **with_gc_probe(carebook_env(args.src)),
        **gc_env(folder),
        "CAREBOOK_DATABASE_URL": url,
    }
    with server(carebook_command(url, args.workers, port), env, port, "load-serve") as pid:
        reads = read_operations(world, 1) + extra_reads(root_fields(port, world))
        if args.operation:
            reads = [op for op in reads if op.name in args.operation]

        def caller(operation: Operation) -> HttpCaller:
            return graphql_caller(port, world, operation)

        return await measure_under_load(
            port, pid, reads, caller, workers=args.workers, seconds=args.seconds,
            gc_folder=folder, clients=args.clients,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.under_load``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.under_load", description="The under-load phase alone."
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="Override the bench database URL.")
    parser.add_argument("--quick", action="store_true", help="Use the --quick run's database.")
    parser.add_argument("--workers", type=int, default=2, help="carebook serve --workers.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Per operation.")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="Requests in flight.")
    parser.add_argument("--operation", action="append", help="Only this read (repeatable).")
    parser.add_argument("--src", help="Run carebook from this source folder (another build).")
    args = parser.parse_args(argv)
    path = world_file(args.database, quick=args.quick)
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python -m bench` on this database first")
    world = Generated(**json.loads(path.read_text()))
    url = args.database_url or default_database_url(args.database, quick=args.quick)
    rows = run_driver(_main(args, world, url))
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
