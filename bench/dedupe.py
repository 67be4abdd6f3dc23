"""Finding every duplicate candidate of a large organization: the scan's time and memory.

    timeout 3600 python -m bench.dedupe --database sqlite --patients 1000000
    timeout 3600 python -m bench.dedupe --database postgresql --patients 1000000

Generates a database of its own (bench/results/dedupe-PATIENTS.db, or the PostgreSQL database
carebook_bench_dedupe): one organization whose patients come from bench/duplicates.py (planted
duplicates and hard negatives included), bulk-loaded. Then, each in a fresh process so its peak
memory is its own: ``reindex`` (the blocking keys, what an import batch writes) and ``scan``
(the candidate pairs: found in a streaming read, recorded in one write transaction, exactly
``carebook duplicates scan``). Prints seconds, peak RSS, pairs, precision and recall.

``--rescan`` skips the generation and the keys: it empties the organization's recorded pairs
and scans again the database a previous run generated (same ``--database`` and
``--patients``), to compare builds on one database without generating it again
(``PYTHONPATH=/work/main/src`` runs the scan of another build; bench/ is this one's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from bench.duplicates import generate
from bench.generate import (
    PostgresSink,
    SqliteSink,
    is_sqlite,
    recreate_database,
    vacuum_analyze,
)
from bench.run import RESULTS
from carebook.accounts.staff import create_provider
from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.migrate import upgrade_async
from carebook.duplicates import service
from carebook.duplicates.models import DuplicatePair
from carebook.users.models import User

URLS = {
    "sqlite": f"sqlite+aiosqlite:///{RESULTS / 'dedupe-{patients}.db'}",
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/carebook_bench_dedupe",
}
USER_COLUMNS = (
    "id", "organization_id", "role", "first_name", "last_name", "email", "email_key",
    "skipped_email", "phone_number", "dob", "dietitian_id", "active", "created_at", "updated_at",
)  # fmt: skip
LOCATION_COLUMNS = (
    "organization_id", "user_id", "line1", "zip", "country", "created_at", "updated_at",
)  # fmt: skip
BATCH = 50_000


async def _provider(settings: Settings) -> tuple[int, int, int]:
    """(organization id, provider id, the next user id) of a new organization."""
    database = create_database(settings)
    try:
        async with database.write_sessions() as session, session.begin():
            created = await create_provider(
                session,
                passwords=Passwords(settings),
                email="dedupe.provider@example.com",
                first_name="Dana",
                last_name="Reyes",
                organization_name="Dedupe Clinic",
                new_organization=True,
            )
            last = await session.scalar(select(User.id).order_by(User.id.desc()).limit(1))
        return created.organization_id, created.user_id, int(last or 0) + 1
    finally:
        await database.dispose()


async def _load(url: str, patients: int, seed: int) -> tuple[int, dict[str, Any]]:
    """Generate and bulk-load the organization; (organization id, what was planted)."""
    await recreate_database(url)
    await upgrade_async(url)
    settings = Settings(database_url=url)
    org, provider, first_id = await _provider(settings)
    generated = generate(round(patients / 1.1), seed, duplicate_share=0.05)
    now = datetime.now(UTC)
    sink: SqliteSink | PostgresSink = (
        SqliteSink(url, journal_off=True) if is_sqlite(url) else PostgresSink(url)
    )
    await sink.begin(drop_indexes=False)
    users, locations = [], []
    for p in generated.people:
        uid = first_id + p.id - 1
        email = p.email
        users.append(
            (uid, org, "patient", p.first_name, p.last_name, email, email, False, p.phone,
             p.dob, provider, True, now, now)
        )  # fmt: skip
        if p.address:
            line1, zip_code = p.address.split("|")
            locations.append((org, uid, line1, zip_code, "US", now, now))
    for start in range(0, len(users), BATCH):
        await sink.load("users", USER_COLUMNS, users[start : start + BATCH])
    for start in range(0, len(locations), BATCH):
        await sink.load("locations", LOCATION_COLUMNS, locations[start : start + BATCH])
    await sink.finish()
    planted = {
        "people": len(generated.people),
        "duplicates": [[first_id + a - 1, first_id + b - 1] for a, b in generated.duplicates],
    }
    return org, planted


async def _reindex(url: str, org: int) -> dict[str, Any]:
    database = create_database(Settings(database_url=url))
    try:
        started = time.perf_counter()
        async with database.write_sessions() as session, session.begin():
            keyed = await service.reindex_organization(session, org)
        return {"seconds": time.perf_counter() - started, "patients": keyed}
    finally:
        await database.dispose()


async def _vacuum(url: str) -> None:
    """On PostgreSQL, what autovacuum would do after the keys' bulk rebuild (it is off on this
    machine's server): without it the scan's index-only walks of the keys and name tallies read
    every row from the tables too, and plans on empty statistics (twice the server's CPU at a
    million)."""
    await vacuum_analyze(url, "duplicate_match_keys", "duplicate_name_keys")


async def _scan(url: str, org: int, *, fresh: bool = False) -> dict[str, Any]:
    database = create_database(Settings(database_url=url))
    try:
        if fresh:  # a scan that records every pair, as the first one does
            async with database.write_sessions() as session, session.begin():
                await session.execute(
                    delete(DuplicatePair).where(DuplicatePair.organization_id == org)
                )
        started, cpu = time.perf_counter(), time.process_time()
        async with database.stream_sessions() as session, session.begin():
            found = await service.find_in_organization(session, org)
        found_at = time.perf_counter()
        async with database.write_sessions() as session, session.begin():
            pairs = await service.record_found(session, org, found)
        done = time.perf_counter()
        # The process's CPU, every thread (SQLite's work included, not PostgreSQL's server):
        # steadier than the seconds on a shared machine.
        cpu = time.process_time() - cpu
        seconds = {"seconds": done - started, "find_seconds": found_at - started}
        return seconds | {"cpu_seconds": cpu, "pairs": pairs}
    finally:
        await database.dispose()


async def _pairs(url: str, org: int) -> list[tuple[int, int]]:
    database = create_database(Settings(database_url=url))
    try:
        async with database.read_sessions() as session:
            query = select(DuplicatePair.user_id, DuplicatePair.other_user_id).where(
                DuplicatePair.organization_id == org
            )
            return [(a, b) for a, b in (await session.execute(query)).all()]
    finally:
        await database.dispose()


def _step(step: str, url: str, org: int) -> dict[str, Any]:
    """Run one step in a fresh process; its figures, with its peak RSS."""
    command = [sys.executable, "-m", "bench.dedupe", "--step", step, "--url", url]
    output = subprocess.run(
        [*command, "--organization-id", str(org)], check=True, capture_output=True, text=True
    ).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return figures


def _child(step: str, url: str, org: int) -> None:
    if step == "reindex":
        figures = asyncio.run(_reindex(url, org))
    else:
        figures = asyncio.run(_scan(url, org, fresh=step == "rescan"))
    figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=sorted(URLS), default="sqlite")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument(
        "--rescan", action="store_true", help="scan the last generated database again"
    )
    parser.add_argument("--step", choices=("reindex", "scan", "rescan"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--organization-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _child(args.step, args.url, args.organization_id)
        return
    url = URLS[args.database].format(patients=args.patients)
    # What was planted, kept for --rescan (the generation takes minutes at a million).
    saved = RESULTS / f"dedupe-{args.database}-{args.patients}-{args.seed}.json"
    if args.rescan:
        planted = json.loads(saved.read_text())
        org = planted["organization_id"]
    else:
        started = time.perf_counter()
        org, planted = asyncio.run(_load(url, args.patients, args.seed))
        print(f"loaded {planted['people']} patients in {time.perf_counter() - started:.0f} s")
        saved.write_text(json.dumps(planted | {"organization_id": org}))
        keyed = _step("reindex", url, org)
        print(f"reindex: {keyed['patients']} patients keyed in {keyed['seconds']:.1f} s, "
              f"peak RSS {keyed['peak_rss_mib']:.0f} MiB")  # fmt: skip
        asyncio.run(_vacuum(url))
    scanned = _step("rescan" if args.rescan else "scan", url, org)
    print(f"scan: {scanned['pairs']} pairs in {scanned['seconds']:.1f} s (finding "
          f"{scanned['find_seconds']:.1f} s; process CPU {scanned['cpu_seconds']:.1f} s), "
          f"peak RSS {scanned['peak_rss_mib']:.0f} MiB")  # fmt: skip
    found = asyncio.run(_pairs(url, org))
    planted_pairs = {(a, b) for a, b in planted["duplicates"]}
    true = len({(min(a, b), max(a, b)) for a, b in found} & planted_pairs)
    print(f"precision {true / max(len(found), 1):.4f} recall {true / len(planted_pairs):.4f}")


if __name__ == "__main__":
    main()
