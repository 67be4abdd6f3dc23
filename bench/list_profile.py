"""Where a read request's CPU goes: the app in this process, driven through ASGI, profiled.

    python -m bench.list_profile users_first [--database sqlite] [--requests 2000] [--top 40]
    python -m bench.list_profile search_1_rare --src /work/main/src --no-profile  # time only
    python -m bench.list_profile updateClient --database postgresql --requests 500  # a write
    python -m bench.list_profile signUp --database postgresql --no-profile  # argon2id's included

Uses the database and world file of an earlier ``python -m bench`` run (as ``bench.probe``).
Sends the benchmark operation's requests one at a time (a read's variants in turn; a write's
requests each new, as the bench's write phases make them, and committed) to the app built
as ``carebook serve`` builds it, in this process, with no HTTP server and no other load, and
prints the mean CPU time per request (``time.process_time``) and, with the profile, the top
functions by own and cumulative time. A sharper comparison of two builds than ``bench.probe``
on a busy machine (no load generator, no scheduler between processes), but without HTTP and
uvicorn; alternate builds all the same.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The writes whose requests are new each time (every write of bench/operations.py since
# bulkUpdateClients' moves are drawn per run).
NEW_EACH_TIME = ("createClient", "updateClient", "bulkUpdateClients", "signUp")
# As the bench's server runs: no sign-up rate limits (bench/run.py), and no webhook worker in
# the app's process (`carebook serve` delivers from a process of its own): the worker's
# fan-out of each write's event made a write's CPU and function calls vary by a fifth from
# run to run.
SERVER_ENVIRONMENT = {
    "CAREBOOK_SIGN_UP_ADDRESS_LIMIT": "0",
    "CAREBOOK_ENROLLMENT_TARGET_LIMIT": "0",
    "CAREBOOK_SERVE_DELIVERY_PROCESS": "1",
}
# The requests sent by this process, numbered across rounds (a write's are each new).
_SENT = itertools.count()


def _setup_path(src: str | None) -> None:
    if src:
        sys.path.insert(0, str(Path(src).resolve()))


async def _drive(
    app: Any,
    bodies: Callable[[int], bytes],
    headers: list[tuple[bytes, bytes]],
    count: int,
    check: Callable[[bytes], bool],
    checked: int,
) -> tuple[float, int]:
    """Send ``count`` requests in turn; returns the CPU seconds and the failures among the
    first ``checked`` answers (a read's every variant; a write's first 20)."""
    failures = 0

    async def one(body: bytes) -> bytes:
        chunks: list[bytes] = []
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/graphql", "raw_path": b"/graphql",
            "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {},
        }  # fmt: skip
        await app(scope, receive, send)
        return b"".join(chunks)

    warmup = min(200, count)
    for _ in range(warmup):  # warm-up: statement caches, parse and validation caches
        await one(bodies(next(_SENT)))
    started = time.process_time()
    for i in range(count):
        payload = await one(bodies(next(_SENT)))
        if i < checked and not check(payload):
            failures += 1
            if failures == 1:
                print("error:", payload[:300], file=sys.stderr)
    return time.process_time() - started, failures


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.list_profile``."""
    parser = argparse.ArgumentParser(prog="python -m bench.list_profile")
    parser.add_argument("operation", help="An operation of bench/operations.py (read or write).")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url")
    parser.add_argument("--quick", action="store_true", help="Use the --quick run's database.")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--src", help="Import carebook from this source folder.")
    parser.add_argument("--save", help="Also write the profile here (pstats; for callers).")
    parser.add_argument("--no-profile", action="store_true", help="Time only.")
    parser.add_argument("--rounds", type=int, default=1, help="Timed rounds (time only).")
    args = parser.parse_args(argv)
    _setup_path(args.src)
    for name, value in SERVER_ENVIRONMENT.items():
        os.environ.setdefault(name, value)

    from bench.generate import Generated, settle, settle_events
    from bench.operations import read_operations, write_operations
    from bench.run import api_headers, world_file
    from carebook.app import create_app
    from carebook.config import Settings

    world = Generated(**json.loads(world_file(args.database, quick=args.quick).read_text()))
    url = args.database_url or world.database_url
    # A write's requests are new per run (a patient updated to what it holds writes nothing).
    writes = write_operations(world, f"profile{time.time_ns()}", 1)
    operation = next(o for o in [*read_operations(world, 1), *writes] if o.name == args.operation)
    check = operation.check
    if operation.write:
        if operation.name not in NEW_EACH_TIME:
            parser.error(f"{operation.name}: only {', '.join(NEW_EACH_TIME)} among the writes")
        bodies: Callable[[int], bytes] = operation.body
        checked = 20
    else:
        read_bodies = [operation.body(i) for i in range(len(operation.variants))]
        bodies = lambda i: read_bodies[i % len(read_bodies)]  # noqa: E731
        checked = len(read_bodies)
    headers = [(b"content-type", b"application/json"), (b"host", b"127.0.0.1")]
    headers += [(k.lower().encode(), v.encode()) for k, v in api_headers(world).items()]
    settings = Settings(database_url=url, access_log=False)
    # Served as `carebook serve` serves (carebook.gc_pauses): startup's objects frozen, no
    # automatic full collection. Built without it (before 2026-12-07 evening), a bulk write's
    # figure held some 25 ms of full collections over the whole heap that no server runs.
    app = create_app(settings, serving=True)

    def drive() -> Any:
        return _drive(app, bodies, headers, args.requests, check, checked)

    async def run() -> None:
        # Started without earlier runs' events or dead rows, and (running no delivery worker,
        # SERVER_ENVIRONMENT) leaving none of its own: bench.generate.settle_events.
        await settle(url)
        try:
            await measure()
        finally:
            await settle_events(url)

    async def measure() -> None:
        async with app.router.lifespan_context(app):
            if args.no_profile:
                for _ in range(args.rounds):
                    spent, failures = await drive()
                    print(
                        f"{operation.name}: {spent * 1000 / args.requests:.3f} ms CPU per "
                        f"request ({args.requests} requests, {failures} failed)"
                    )
                return
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            spent, failures = await drive()
            profile.disable()
            print(f"{operation.name}: {spent * 1000 / args.requests:.3f} ms CPU per request "
                  f"under the profiler ({failures} failed)")  # fmt: skip
            stats = pstats.Stats(profile)
            if args.save:
                stats.dump_stats(args.save)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)

    asyncio.run(run())


if __name__ == "__main__":
    main()
