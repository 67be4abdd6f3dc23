"""The dispatcher's fair pick (``due_rows``) under a backlog: old windowed statement vs new.

    PYTHONPATH=src python -m bench.due_rows --database sqlite --pending 1000
    PYTHONPATH=src python -m bench.due_rows --database postgresql --pending 50000

Builds a scratch database of its own (bench/results/due_rows.db, or the PostgreSQL database
carebook_bench_hooks2), migrated to head, and bulk-inserts ``--webhooks`` webhooks and
``--pending`` pending deliveries, all due, spread over the webhooks and ``--patients``
resources in event order, after as many delivered ones (foreign keys off: nothing else reads
them). Then times, alternating, one call of the old statement (the windowed subquery of branch
``hooks``, commit 58ec997's form, copied below) and of the current ``due_rows``: median wall
and process CPU (SQLite runs in this process; PostgreSQL's CPU is the server's) over
``--rounds``. Prints the plan of each (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Select, bindparam, event, func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.generate import asyncpg_dsn, recreate_database, sqlite_path
from bench.run import RESULTS
from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database, create_database
from carebook.db.migrate import upgrade_async
from carebook.events.models import WebhookDelivery
from carebook.webhooks import delivery

URLS = {
    "sqlite": f"sqlite+aiosqlite:///{RESULTS / 'due_rows.db'}",
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/carebook_bench_hooks2",
}
PER_WEBHOOK = 4


def old_query() -> Select[Any]:
    """The windowed statement ``due_rows`` ran before the partial index (branch ``hooks``)."""
    ranked = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.webhook_id,
            func.row_number()
            .over(partition_by=WebhookDelivery.webhook_id, order_by=WebhookDelivery.id)
            .label("rank"),
        )
        .where(delivery._due(bindparam("now", type_=WebhookDelivery.next_attempt_at.type)))
        .subquery()
    )
    return (
        select(ranked.c.id, ranked.c.webhook_id, ranked.c.rank)
        .where(ranked.c.rank <= bindparam("per_webhook"))
        .order_by(ranked.c.rank, ranked.c.id)
    )


def rows(pending: int, webhooks: int, patients: int) -> tuple[list[tuple[Any, ...]], ...]:
    """Webhook rows and delivery rows (delivered history first, then the pending backlog)."""
    now = datetime.now(UTC)
    hooks = [
        (w, 1, f"https://receiver.example/{w}", None, True, True, "sealed", now, now)
        for w in range(1, webhooks + 1)
    ]
    deliveries = []
    for index in range(2 * pending):
        status = "delivered" if index < pending else "pending"
        event = index // webhooks
        at = now - timedelta(seconds=2 * pending - index)
        deliveries.append(
            (
                index + 1,
                1,
                index % webhooks + 1,
                event + 1,
                f"Patient:{event % patients}",
                status,
                1 if status == "delivered" else 0,
                at,
                at,
                at if status == "delivered" else None,
            )
        )
    return hooks, deliveries


HOOK_COLUMNS = (
    "id, organization_id, url, event_type, is_enabled, should_retry, secret_sealed, "
    "created_at, updated_at"
)
DELIVERY_COLUMNS = (
    "id, organization_id, webhook_id, event_id, resource_key, status, attempts, created_at, "
    "next_attempt_at, delivered_at"
)


def fill_sqlite(url: str, hooks: list[tuple[Any, ...]], deliveries: list[tuple[Any, ...]]) -> None:
    def text(value: Any) -> Any:  # SQLAlchemy's storage of a UTC datetime on SQLite
        if isinstance(value, datetime):
            return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    connection = sqlite3.connect(sqlite_path(url))  # foreign keys off: no events, no org
    with connection:
        connection.executemany(
            "INSERT INTO webhooks (id, organization_id, url, event_type, is_enabled, should_retry,"
            " secret_sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [tuple(map(text, row)) for row in hooks],
        )
        connection.executemany(
            "INSERT INTO webhook_deliveries (id, organization_id, webhook_id, event_id,"
            " resource_key, status, attempts, created_at, next_attempt_at, delivered_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [tuple(map(text, row)) for row in deliveries],
        )
        connection.execute("ANALYZE")
    connection.close()


async def fill_postgresql(
    url: str, hooks: list[tuple[Any, ...]], deliveries: list[tuple[Any, ...]]
) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            for table, columns, records in (
                ("webhooks", HOOK_COLUMNS, hooks),
                ("webhook_deliveries", DELIVERY_COLUMNS, deliveries),
            ):
                await connection.copy_records_to_table(
                    table, records=records, columns=columns.split(", ")
                )
        await connection.execute("ANALYZE webhooks; ANALYZE webhook_deliveries")
    finally:
        await connection.close()


async def explain(url: str, query: Any, sqlite: bool) -> list[str]:
    """The plan of ``query`` run with the benchmark's parameters."""
    engine = create_async_engine(url)
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "

    def to_explain(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> Any:
        return prefix + statement, parameters

    event.listen(engine.sync_engine, "before_cursor_execute", to_explain, retval=True)
    try:
        async with engine.connect() as connection:
            raw = await connection.exec_driver_sql("SELECT 1")  # warm
            raw.close()
            result = await connection.execute(query, {"now": utcnow(), "per_webhook": PER_WEBHOOK})
            return [" | ".join(str(part) for part in row) for row in result.cursor.fetchall()]
    finally:
        await engine.dispose()


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    found = await call()
    return time.perf_counter() - wall, time.process_time() - cpu, len(found)


async def main_async(args: argparse.Namespace) -> None:
    url = URLS[args.database]
    sqlite = args.database == "sqlite"
    await recreate_database(url)
    await upgrade_async(url)
    hooks, deliveries = rows(args.pending, args.webhooks, args.patients)
    if sqlite:
        fill_sqlite(url, hooks, deliveries)
    else:
        await fill_postgresql(url, hooks, deliveries)
    database: Database = create_database(Settings(database_url=url))
    postgresql = not sqlite
    old, new = old_query(), delivery._due_rows_query(postgresql)

    async def run_old() -> list[Any]:
        async with database.read_sessions() as session:
            result = await session.execute(old, {"now": utcnow(), "per_webhook": PER_WEBHOOK})
            return [row for row in result.all() if row.rank <= PER_WEBHOOK][:50]

    async def run_new() -> list[Any]:
        return await delivery.due_rows(database, 50, PER_WEBHOOK)

    try:
        picked_old, picked_new = await run_old(), await run_new()
        print(f"picked: old {len(picked_old)}, new {len(picked_new)}")
        samples: dict[str, list[tuple[float, float, int]]] = {"old": [], "new": []}
        for _ in range(args.rounds):
            samples["old"].append(await timed(run_old))
            samples["new"].append(await timed(run_new))
        for name, runs in samples.items():
            wall = statistics.median(run[0] for run in runs) * 1000
            cpu = statistics.median(run[1] for run in runs) * 1000
            print(
                f"{args.database} pending={args.pending} {name}: "
                f"median wall {wall:.2f} ms, process CPU {cpu:.2f} ms ({args.rounds} calls)"
            )
    finally:
        await database.dispose()
    if args.explain:
        for name, query in (("old", old), ("new", new)):
            print(f"--- plan, {name}")
            for line in await explain(url, query, sqlite):
                print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=tuple(URLS), default="sqlite")
    parser.add_argument("--pending", type=int, default=1000)
    parser.add_argument("--webhooks", type=int, default=3)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
