"""What a served request leaves for the garbage collector: objects in reference cycles.

    python -m bench.cycles users_first                    # the quick PostgreSQL database
    python -m bench.cycles user --requests 500 --referrers Context
    PYTHONPATH=/tmp/before/src python -m bench.cycles users_first   # another build

Serves carebook in this process under uvicorn (as ``carebook serve`` does, one worker) on the
database of an earlier ``python -m bench --quick --database postgresql`` run, sends the read's
requests over HTTP, 8 in flight, with the collector off, then collects once keeping what it
found (``gc.DEBUG_SAVEALL``) and counts it by type. Whatever is listed here was freed only by
a collection: under load it reaches the oldest generation and waits there for the timed full
collection (docs/performance.md, "Requests freed when they end"). ``--referrers TYPE`` names,
for one such object, what else in the garbage refers to it (the cycle's next link).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
from typing import Any

import uvicorn

from bench.generate import Generated
from bench.operations import read_operations
from bench.run import default_database_url, free_port, graphql_caller, world_file

IN_FLIGHT = 8


async def _serve_and_count(args: argparse.Namespace) -> list[Any]:
    os.environ["CAREBOOK_DATABASE_URL"] = args.database_url
    from carebook.app import app_from_environment  # after the URL is set

    port = free_port()
    app = app_from_environment()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn's Server has no event for it)
        await asyncio.sleep(0.05)
    world = Generated(**json.loads(world_file("postgresql", quick=True).read_text()))
    operation = next(o for o in read_operations(world, 1) if o.name == args.operation)
    caller = graphql_caller(port, world, operation)

    async def send(count: int) -> None:
        async def one_client(first: int) -> None:
            for index in range(first, count, IN_FLIGHT):
                ok, error = await caller(index)
                if not ok:
                    raise SystemExit(f"{args.operation}: {error}")

        await asyncio.gather(*(one_client(k) for k in range(IN_FLIGHT)))

    try:
        await send(100)  # caches, connections, compiled statements: built once, not counted
        gc.collect()
        gc.freeze()
        gc.disable()
        await send(args.requests)
        await asyncio.sleep(0.2)  # the last answers' deferred work
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        await caller.close()
        server.should_exit = True
        await serving


def _print_referrers(garbage: list[Any], name: str) -> None:
    """What in the garbage refers to the first object of type ``name``."""
    inside = {id(o) for o in garbage}
    target = next((o for o in garbage if type(o).__qualname__ == name), None)
    if target is None:
        print(f"no {name} in the garbage")
        return
    print(f"referrers of a {name}:")
    for referrer in gc.get_referrers(target):
        if id(referrer) not in inside:
            continue
        line = type(referrer).__qualname__
        if isinstance(referrer, dict):
            keys = [key for key, value in referrer.items() if value is target][:3]
            owners = [type(o).__qualname__ for o in gc.get_referrers(referrer) if id(o) in inside]
            line += f" keys {keys}, held by {owners[:3]}"
        elif callable(referrer):
            line += f" {getattr(referrer, '__qualname__', '')}"
        print(f"  {line}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("operation", help="A read of bench/operations.py (user, users_first...).")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=default_database_url("postgresql", quick=True))
    parser.add_argument("--referrers", action="append", default=[], metavar="TYPE")
    args = parser.parse_args(argv)
    garbage = asyncio.run(_serve_and_count(args))
    print(f"{args.operation}: {len(garbage)} objects in cycles after {args.requests} requests")
    print(f"({len(garbage) / args.requests:.1f} a request)")
    counts = collections.Counter(type(o).__module__ + "." + type(o).__qualname__ for o in garbage)
    for kind, count in counts.most_common(30):
        print(f"{count:8d}  {kind}")
    for name in args.referrers:
        _print_referrers(garbage, name)


if __name__ == "__main__":
    main()
