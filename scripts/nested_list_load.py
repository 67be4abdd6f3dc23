#!/usr/bin/env python
"""Amplification by nested lists: a simple query's latency while two clients send the worst
documents the limits allow (issue 22, item 2).

    python scripts/nested_list_load.py --database sqlite|postgresql [--duration S] [--workers N]

On a fresh database (bench/results/nested.db, or the PostgreSQL database carebook_nested) the
script generates an organization with the benchmark's generator (bench/generate.py), puts 2,000
of its patients in one group and tags every one of them with each of the 30 tags, and starts
``carebook serve`` (127.0.0.1 only, one worker by default). It then sends each attack document
alone (how it is answered, and its time), and runs two phases of ``--duration`` seconds in which
two clients loop documents while a third sends ``user(id:) { id first_name }`` one request at a
time and records its latency:

1. the issue's documents: the group's users under a page of 100 users, 30 aliases of
   ``tags { tagged_users }``, and ``users(should_paginate: false)`` on the group;
2. the widest documents the limits still accept, sized from the settings (pages of tagged
   users, pages of users, users with every nested list).

It prints how each document was answered (data, or the error code) with its size and time, and
the simple query's p50/p99 alone and in each phase; it exits 1 when a phase's p99 is 100 ms or
more. Every loop is bounded by ``--duration`` and ``--max-requests``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the bench package sits beside src/, not installed

from bench.client import Connection, Stats, run_driver  # noqa: E402
from bench.generate import Generated, Options, generate, is_sqlite  # noqa: E402
from bench.run import (  # noqa: E402
    RESULTS,
    api_headers,
    carebook_command,
    carebook_env,
    free_port,
    server,
)

from carebook.config import Settings  # noqa: E402
from carebook.db.engine import create_database  # noqa: E402

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/carebook_nested"
GROUP_SIZE = 2_000
TARGET_MS = 100.0
ALIASES = 30


def database_url(database: str) -> str:
    """Where the run keeps its data."""
    if database == "sqlite":
        return f"sqlite+aiosqlite:///{RESULTS / 'nested.db'}"
    return POSTGRES_URL


async def seed(url: str, patients: int) -> tuple[Generated, int]:
    """The benchmark's organization, then one group of GROUP_SIZE patients, all of them tagged."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    world = await generate(Options(database_url=url, patients=patients), log=print)
    group_id = world.group_ids[0]
    first, last = world.first_patient_id, world.first_patient_id + GROUP_SIZE - 1
    database = create_database(Settings(database_url=url))
    try:
        from sqlalchemy import text

        async with database.engine.begin() as connection:
            await connection.execute(
                text("UPDATE users SET user_group_id = :g WHERE id BETWEEN :a AND :b"),
                {"g": group_id, "a": first, "b": last},
            )
            await connection.execute(
                text("DELETE FROM taggings WHERE user_id BETWEEN :a AND :b"),
                {"a": first, "b": last},
            )
            for tag_id in world.tag_ids:
                await connection.execute(
                    text(
                        "INSERT INTO taggings (tag_id, user_id, created_at) "
                        "SELECT :t, id, created_at FROM users WHERE id BETWEEN :a AND :b"
                    ),
                    {"t": tag_id, "a": first, "b": last},
                )
    finally:
        await database.dispose()
    world_file = RESULTS / f"world-nested-{'sqlite' if is_sqlite(url) else 'postgresql'}.json"
    world_file.write_text(json.dumps({**asdict(world), "nested_group_id": group_id}))
    return world, group_id


def documents(world: Generated, group_id: int, settings: Settings) -> dict[str, str]:
    """The attack documents of the issue, and the widest variants the limits accept.

    Each variant is sized from the limits as served (the cost of a list is its page or its
    cap, see carebook/graphql/limits/cost.py), so it sits just under CAREBOOK_MAX_QUERY_COST.
    """
    budget, cap = settings.max_query_cost, settings.nested_list_max_rows
    group = f'"{group_id}"'
    tag_ids = json.dumps([str(t) for t in world.tag_ids])
    tagged = " ".join(
        f"t{i}: tags {{ id tagged_users {{ id first_name }} }}" for i in range(ALIASES)
    )
    # A page of tagged users costs 1 + 10 per tag; the tags narrowed to ids cost that many.
    per_tags = len(world.tag_ids) * (1 + 10)
    tag_pages = " ".join(
        f"t{i}: tags(ids: {tag_ids}) {{ id tagged_users(should_paginate: true, offset: {i * 10}) "
        "{ id first_name } }"
        for i in range(max(1, min(ALIASES, budget // per_tags)))
    )
    # A page of users with its group costs 2 a user.
    size = max(1, min(100, budget // 2))
    user_pages = " ".join(
        f"u{i}: users(page_size: {size}, offset: {i * size}) "
        "{ id first_name user_group { id } }"
        for i in range(max(1, min(ALIASES, budget // (2 * size))))
    )
    # A user with three nested lists costs 1 + 3 x the nested cap.
    wide = max(1, min(100, budget // (1 + 3 * cap)))
    return {
        "group users under 100 users (issue)": (
            f"{{ users(page_size: 100, group_id: {group}) "
            "{ id user_group { users { id first_name } } } }"
        ),
        "30 x tags { tagged_users } (issue)": f"{{ {tagged} }}",
        "widest pages of tagged users": f"{{ {tag_pages} }}",
        "widest pages of users": f"{{ {user_pages} }}",
        "widest users with every nested list": (
            f"{{ users(page_size: {wide}, group_id: {group}) {{ id first_name "
            "providers { id } locations { id } active_tags { id } } }"
        ),
        "users(should_paginate: false) (refused)": (
            f"{{ users(should_paginate: false, group_id: {group}) {{ id first_name }} }}"
        ),
    }


@dataclass
class Outcome:
    """How the server answered one attack document."""

    answers: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0
    requests: int = 0


def _answer(payload: bytes) -> str:
    body = json.loads(payload)
    codes = sorted({(e.get("extensions") or {}).get("code", "?") for e in body.get("errors") or []})
    return "data" if not codes else ",".join(codes)


async def attacker(
    port: int, headers: dict[str, str], docs: dict[str, str], deadline: float, limit: int,
    outcomes: dict[str, Outcome],
) -> None:  # fmt: skip
    """Send each document in turn, one at a time, until the deadline."""
    connection = Connection(port, headers)
    names = list(docs)
    sent = 0
    try:
        while time.perf_counter() < deadline and sent < limit:
            name = names[sent % len(names)]
            body = json.dumps({"query": docs[name]}).encode()
            start = time.perf_counter()
            status, payload = await connection.post("/graphql", body)
            outcome = outcomes.setdefault(name, Outcome())
            outcome.seconds += time.perf_counter() - start
            outcome.requests += 1
            outcome.bytes += len(payload)
            answer = _answer(payload) if status == 200 else f"HTTP {status}"
            outcome.answers[answer] = outcome.answers.get(answer, 0) + 1
            sent += 1
    finally:
        await connection.close()


async def prober(
    port: int, headers: dict[str, str], patient_id: int, deadline: float, limit: int
) -> Stats:
    """The third client: a simple read, one at a time, every latency recorded."""
    stats = Stats("user(id) { id first_name }", "graphql")
    connection = Connection(port, headers)
    body = json.dumps({"query": f'{{ user(id: "{patient_id}") {{ id first_name }} }}'}).encode()
    started = time.perf_counter()
    try:
        while time.perf_counter() < deadline and stats.requests < limit:
            start = time.perf_counter()
            status, payload = await connection.post("/graphql", body)
            stats.latencies.append(time.perf_counter() - start)
            stats.requests += 1
            if status != 200 or _answer(payload) != "data":
                stats.errors += 1
                stats.first_error = stats.first_error or payload[:200].decode(errors="replace")
            await asyncio.sleep(0.005)  # a steady client, not a third attacker
    finally:
        await connection.close()
    stats.seconds = time.perf_counter() - started
    return stats.finish()


@dataclass
class Phase:
    """The simple query's latencies while two clients loop one set of documents."""

    name: str
    probe: Stats
    outcomes: dict[str, Outcome]


async def drive(
    port: int, world: Generated, group_id: int, settings: Settings, duration: float,
    max_requests: int,
) -> tuple[Stats, list[Phase]]:  # fmt: skip
    """Baseline (prober alone), each document alone, then one phase per set of documents."""
    headers = api_headers(world)
    patient = world.first_patient_id
    baseline = await prober(port, headers, patient, time.perf_counter() + 3.0, max_requests)
    docs = documents(world, group_id, settings)
    for name, doc in docs.items():  # each document alone: what one costs without contention
        alone: dict[str, Outcome] = {}
        await attacker(port, headers, {name: doc}, time.perf_counter() + 30, 3, alone)
        outcome = alone[name]
        print(f"  alone: {name}: {outcome.answers}, "
              f"{outcome.seconds / outcome.requests * 1000:.1f} ms")  # fmt: skip
    phases = []
    for phase, names in (
        ("the issue's documents", [n for n in docs if not n.startswith("widest")]),
        ("the widest documents allowed", [n for n in docs if n.startswith("widest")]),
    ):
        chosen = {name: docs[name] for name in names}
        outcomes: dict[str, Outcome] = {}
        deadline = time.perf_counter() + duration
        attackers = [
            attacker(port, headers, chosen, deadline, max_requests, outcomes) for _ in range(2)
        ]
        probe = asyncio.ensure_future(prober(port, headers, patient, deadline, max_requests))
        await asyncio.gather(probe, *attackers)
        phases.append(Phase(phase, probe.result(), outcomes))
    return baseline, phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--duration", type=float, default=20.0, help="Seconds of each phase.")
    parser.add_argument("--max-requests", type=int, default=20_000, help="Cap per client.")
    parser.add_argument("--patients", type=int, default=3_000, help="Patients generated.")
    parser.add_argument("--workers", type=int, default=1, help="carebook serve --workers.")
    parser.add_argument(
        "--max-cost", type=int, help="CAREBOOK_MAX_QUERY_COST to serve with (default: the default)."
    )
    args = parser.parse_args(argv)
    url = database_url(args.database)
    if args.database == "sqlite":
        (RESULTS / "nested.db").unlink(missing_ok=True)
    world, group_id = asyncio.run(seed(url, max(args.patients, GROUP_SIZE)))
    port = free_port()
    settings = Settings(database_url=url)
    if args.max_cost is not None:
        settings = settings.model_copy(update={"max_query_cost": args.max_cost})
    env = {"CAREBOOK_DATABASE_URL": url, "CAREBOOK_MAX_QUERY_COST": str(settings.max_query_cost)}
    with server(
        carebook_command(url, args.workers, port), {**carebook_env(), **env}, port, "nested-load"
    ):
        baseline, phases = run_driver(
            drive(port, world, group_id, settings, args.duration, args.max_requests)
        )
    print(
        f"database: {args.database}, {args.workers} worker(s), max cost "
        f"{settings.max_query_cost}, nested cap {settings.nested_list_max_rows}"
    )
    print(f"  simple query alone: {_figures(baseline)}")
    passed = True
    for phase in phases:
        print(f"  two clients sending {phase.name}:")
        for name, outcome in phase.outcomes.items():
            mean_ms = outcome.seconds / outcome.requests * 1000
            kib = outcome.bytes / outcome.requests / 1024
            print(f"    {name}: {outcome.requests} requests, {outcome.answers}, "
                  f"{kib:.1f} KiB, {mean_ms:.1f} ms each")  # fmt: skip
        ok = phase.probe.p99_ms < TARGET_MS and phase.probe.errors == 0
        passed = passed and ok
        verdict = "PASS" if ok else "FAIL"
        print(f"    simple query: {_figures(phase.probe)}: p99 < {TARGET_MS:.0f} ms {verdict}")
    return 0 if passed else 1


def _figures(stats: Stats) -> str:
    return (
        f"{stats.requests} requests, {stats.errors} errors, p50 {stats.median_ms:.1f} ms, "
        f"p99 {stats.p99_ms:.1f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
