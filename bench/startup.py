"""``python -m bench.startup``: how long ``carebook serve`` takes to answer, and its idle memory.

    python -m bench.startup --rounds 3 --src /tmp/before/src     # old and new, alternated

Starts ``carebook serve --workers N`` on the database of an earlier ``python -m bench`` run and
times it from the start to ``/healthz`` and to every worker serving (bench/memory.py), then
reads the idle RSS of the supervisor and of each worker; first, the application's import as a
worker does it (bench/app_import.py). With ``--src``, another build (e.g. a
git worktree of the old commit) is started in turn with this checkout's, round after round.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench import app_import, memory
from bench.generate import settle_events
from bench.run import carebook_command, carebook_env, default_database_url, free_port, server


def measure(url: str, workers: int, src: str | None) -> str:
    """One start of one build: the line printed."""
    imported = app_import.measure(src)
    asyncio.run(settle_events(url))  # an idle server, not one fanning out an earlier backlog
    port = free_port()
    started = time.monotonic()
    with server(carebook_command(url, workers, port), carebook_env(src), port, "startup") as pid:
        healthy = time.monotonic() - started
        asyncio.run(memory.worker_pids(port, pid, workers))
        serving = time.monotonic() - started
        time.sleep(1)  # settled: what the workers hold once started, before any request
        idle = asyncio.run(memory.idle_rss(port, pid, workers))
    return (
        f"{src or 'this checkout'}: /healthz {healthy:.2f} s, every worker serving "
        f"{serving:.2f} s, idle RSS per worker {idle['workers_mb']} MB, "
        f"supervisor {idle['supervisor_mb']} MB; {app_import.line(imported)}"
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.startup``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.startup", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="Override the bench database URL.")
    parser.add_argument("--workers", type=int, default=2, help="carebook serve --workers.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--src", help="Also start this build (another source folder), in turn.")
    args = parser.parse_args(argv)
    url = args.database_url or default_database_url(args.database, quick=False)
    builds = [args.src, None] if args.src else [None]
    for _ in range(args.rounds):
        for src in builds:
            print(measure(url, args.workers, src), flush=True)


if __name__ == "__main__":
    main()
