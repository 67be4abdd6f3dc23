"""Where an import's time goes: cProfile and a count of SQL statements of one import run.

    python -m bench.import_profile --database-url URL --rows 20000 [--top 40] [--cpu]

Runs ``carebook import patients`` as the command does (duplicate check included) on a file of
``--rows`` new patients into the bench organization of ``URL`` (made by ``python -m
bench.generate``), in this process under cProfile; prints the statements by kind (first words;
wall time and, on PostgreSQL, the serving backend's CPU around each)
and the profile's top functions by cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.imports import RESULTS, SERVER, organization_of_bench, process_cpu, write_file
from carebook.auth.passwords import Passwords
from carebook.cli.common import Sessions, in_transactions
from carebook.config import Settings
from carebook.imports.duplicates import duplicate_notes
from carebook.imports.reader import open_source
from carebook.imports.run import Plan, Summary, run_import
from carebook.imports.service import ImportOptions


def _kind(statement: str) -> str:
    words = statement.split()
    head = " ".join(words[:3]) if words else ""
    return head[:60]


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bench.import_profile``."""
    import asyncio

    parser = argparse.ArgumentParser(prog="python -m bench.import_profile")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="Profile on this process's CPU clock (a busy shared machine's waits left out).",
    )
    args = parser.parse_args(argv)
    organization_id, provider_id, held = asyncio.run(organization_of_bench(args.database_url))
    run = f"p{int(time.time())}"
    path = RESULTS / f"import-profile-{run}.csv"
    write_file(path, args.rows, run, 1)
    statements: Counter[str] = Counter()
    executemany: Counter[str] = Counter()

    spent: Counter[str] = Counter()
    # PostgreSQL: the serving backend's CPU around each statement (/proc, bench.imports'
    # process_cpu), by kind; the connection's backend pid is in its pool record's info.
    server: Counter[str] = Counter()
    started_at: dict[int, tuple[float, float | None]] = {}
    SERVER.start()

    def backend_cpu(conn: Any) -> float | None:
        pid = conn.info.get("bench_pid")
        return process_cpu(pid) if pid is not None else None

    def count(conn: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, many: bool) -> None:
        (executemany if many else statements)[_kind(statement)] += 1
        started_at[id(conn)] = (time.perf_counter(), backend_cpu(conn))

    def timed(conn: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, _many: bool) -> None:
        wall, cpu = started_at.pop(id(conn), (time.perf_counter(), None))
        spent[_kind(statement)] += time.perf_counter() - wall
        after = backend_cpu(conn)
        if cpu is not None and after is not None:
            server[_kind(statement)] += after - cpu

    event.listen(Engine, "before_cursor_execute", count)
    event.listen(Engine, "after_cursor_execute", timed)
    settings = Settings(database_url=args.database_url)
    source = open_source(path, format="csv", encoding="utf-8", mapping={})
    options = ImportOptions(provider_id, on_batch=duplicate_notes)
    plan = Plan(source, organization_id, provider_id, options)

    async def work(sessions: Sessions) -> Summary:
        return await run_import(plan, sessions, Passwords(settings), report=lambda _: None)

    profile = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    summary = in_transactions(settings, work, command="import patients")
    profile.disable()
    seconds = time.perf_counter() - started
    path.unlink()
    print(
        f"{summary.rows} rows into {held:,} patients: {seconds:.1f} s, "
        f"{summary.rows / seconds:,.0f} rows/s (under cProfile)"
    )
    print(
        f"statements: {sum(statements.values())} execute, {sum(executemany.values())} executemany"
    )
    print("     count   wall s  server CPU s  statement")
    for kind, n in (statements + executemany).most_common(25):
        print(f"  {n:8d}  {spent[kind]:7.2f}  {server[kind]:12.2f}  {kind}")
    print(f"  server CPU of the statements: {sum(server.values()):.2f} s")
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
