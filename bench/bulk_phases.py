"""CPU time of bulkUpdateClients' steps, in this process (issue 28: how the bulk path was profiled).

    python -m bench.bulk_phases --database sqlite --calls 8
    PYTHONPATH=/path/to/other/src:. python -m bench.bulk_phases ...   # another build

Runs the app in process (ASGI, no HTTP server) on the database and world of an earlier
``python -m bench`` run, sends the bench's bulkUpdateClients (1,000 ids to a group) ``--calls``
times, one at a time, and prints the CPU time of the process (``time.process_time``: the event
loop and SQLite's worker threads; PostgreSQL's own work is not in it) spent in each step of the
service, min and median. CPU rather than wall time: on the shared 2-core machine wall time
swings by 2x, CPU time much less. Steps a build does not have are left out.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench.generate import Generated, settle
from bench.operations import write_operations
from bench.run import default_database_url, world_file
from carebook.accounts import service
from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.users import queries

STEPS = (
    (queries, "visible_patients_by_ids"),
    (service, "write_columns"),
    (service, "_change_care_teams"),
    (service, "record_patients"),
    (service, "emit_patients_updated"),
    (service, "bulk_update_clients"),
)
TIMES: dict[str, list[float]] = defaultdict(list)


def _timed(module: Any, name: str) -> None:
    step: Callable[..., Awaitable[Any]] | None = getattr(module, name, None)
    if step is None:
        return

    @functools.wraps(step)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return await step(*args, **kwargs)
        finally:
            TIMES[name].append((time.process_time() - started) * 1000)

    setattr(module, name, wrapper)


async def run(database_url: str, world: Generated, calls: int) -> None:
    """Send the bench's bulk update ``calls`` times (after 3 unmeasured ones)."""
    # A run id of its own: moves drawn per run, so a second run moves patients again instead of
    # repeating the first run's moves, which change nothing.
    run_id = f"phases{time.time_ns()}"
    operation = {o.name: o for o in write_operations(world, run_id, 2)}["bulkUpdateClients"]
    await settle(database_url)  # no earlier run's events or dead rows
    settings = Settings(database_url=database_url)
    app = create_app(settings, create_database(settings))
    headers = {
        "Authorization": f"Basic {world.api_key}",
        "AuthorizationSource": "API",
        "content-type": "application/json",
    }
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        for index in range(calls + 3):
            started = time.process_time()
            answer = await client.post("/graphql", content=operation.body(index), headers=headers)
            if not operation.check(answer.content):
                raise SystemExit(f"unexpected answer: {answer.text[:300]}")
            TIMES["request"].append((time.process_time() - started) * 1000)
            await asyncio.sleep(0.3)  # the webhook fan-out of its events runs apart


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.bulk_phases``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.bulk_phases", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="Override the database URL.")
    parser.add_argument("--calls", type=int, default=8)
    args = parser.parse_args(argv)
    world = Generated(**json.loads(world_file(args.database, quick=False).read_text()))
    url = args.database_url or default_database_url(args.database, quick=False)
    for module, name in STEPS:
        _timed(module, name)
    asyncio.run(run(url, world, args.calls))
    for name, values in TIMES.items():
        measured = values[3:] if name == "request" else values[-args.calls :]
        print(
            f"{name:26} CPU ms: min {min(measured):7.1f}  median {statistics.median(measured):7.1f}"
        )


if __name__ == "__main__":
    main()
