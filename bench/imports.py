"""Import throughput: ``carebook import patients`` into an organization of N patients.

    python -m bench.imports                                   # 1,000,000 patients, SQLite
    python -m bench.imports --database postgresql --skip-generate --rows 50000
    python -m bench.imports --quick                           # 20,000 patients, 5,000 rows

Generates the organization with ``bench.generate`` (unless ``--skip-generate``), writes a CSV of
``--rows`` new patients (names, email, date of birth, phone, gender, record identifier; unique to
the run), then times the import as the command runs it (``carebook.imports.run.run_import``
under ``cli.common.in_transactions``: batches of 1,000 through the Database door, the search
tokens, counters, events, audit trail and each batch's duplicate check included; the generated
patients are keyed for duplicate detection first), then a second run of the same file (every
row an update). Prints patients per second of each, and per second of this process's CPU (the
figure a busy shared machine cannot skew as much), on PostgreSQL also per second of this
process's and its server backends' CPU together (``ServerCpu``); the JSON goes to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.pool import Pool

from bench import names
from bench.generate import PROVIDER_EMAIL, Options, generate
from bench.run import RESULTS, log
from carebook import tables
from carebook.auth.passwords import Passwords
from carebook.cli.common import Sessions, in_transactions
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.migrate import upgrade_async
from carebook.duplicates.service import reindex_organization
from carebook.imports.duplicates import duplicate_notes
from carebook.imports.reader import open_source
from carebook.imports.run import Plan, Summary, run_import
from carebook.imports.service import ImportOptions
from carebook.users.models import User

# Every table and the hooks that keep them in step (the search tokens' and the blocking keys'
# flush hooks), as `carebook` loads them: without it this process wrote no search tokens.
tables.data_tables()

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/carebook_bench_import"
GENDERS = ("Female", "Male", "Other", "")


def default_url(database: str, quick: bool) -> str:
    """The run's own database: a file in bench/results/, or carebook_bench_import."""
    if database == "sqlite":
        return f"sqlite+aiosqlite:///{RESULTS / ('import-quick.db' if quick else 'import-1m.db')}"
    return POSTGRES_URL + ("_quick" if quick else "")


def write_file(path: Path, rows: int, run: str, seed: int) -> None:
    """``rows`` new patients as a CSV with Healthie's headers."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ("first_name", "last_name", "email", "dob", "phone_number", "gender",
             "record_identifier")
        )  # fmt: skip
        for number in range(rows):
            writer.writerow(
                (
                    rng.choice(names.FIRST_NAMES),
                    rng.choice(names.LAST_NAMES),
                    f"import.{run}.{number}@example.com",
                    f"{rng.randint(1930, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    f"+1555{rng.randint(0, 9_999_999):07d}",
                    rng.choice(GENDERS),
                    f"IMP-{run}-{number}",
                )
            )


async def organization_of_bench(url: str) -> tuple[int, int, int]:
    """The generated organization, its provider and how many patients it holds now."""
    database = create_database(Settings(database_url=url))
    try:
        async with database.read_sessions() as session:
            row = (
                await session.execute(
                    select(User.organization_id, User.id).where(User.email == PROVIDER_EMAIL)
                )
            ).one()
            held = await session.execute(
                select(func.count()).where(User.organization_id == row[0], User.role == "patient")
            )
            return int(row[0]), int(row[1]), int(held.scalar_one())
    finally:
        await database.dispose()


async def key_patients(url: str) -> None:
    """The blocking keys of the generated patients, so each batch's duplicate check compares
    the file's patients with them (``carebook duplicates reindex``)."""
    database = create_database(Settings(database_url=url))
    try:
        organization_id = (await organization_of_bench(url))[0]
        async with database.write_sessions() as session, session.begin():
            await reindex_organization(session, organization_id)
    finally:
        await database.dispose()


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (/proc), None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU time of the PostgreSQL backends serving this process (the server runs on this
    machine): read from /proc at each connection's check-in, the last reading per backend.

    With PostgreSQL the rows' database work runs in the server, not in this process: the
    process's CPU alone would flatter a build that moves work there. Client + server CPU is the
    figure a machine shared with other work skews least.
    """

    def __init__(self) -> None:
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._listening = False

    def start(self) -> None:
        """Listen to every engine's connections (the run's engines are made inside it)."""

        def connected(dbapi: Any, record: Any) -> None:
            # asyncpg's connections only (SQLite's adapted connection runs coroutines too).
            driver = getattr(dbapi, "driver_connection", None)
            if driver is None or not type(driver).__module__.startswith("asyncpg"):
                return
            pid = dbapi.run_async(lambda conn: conn.fetchval("SELECT pg_backend_pid()"))
            record.info["bench_pid"] = int(pid)
            cpu = process_cpu(int(pid))
            if cpu is not None:
                self.first.setdefault(int(pid), cpu)

        def checked_in(_dbapi: Any, record: Any) -> None:
            pid = record.info.get("bench_pid")
            cpu = process_cpu(pid) if pid is not None else None
            if cpu is not None:
                self.last[pid] = cpu

        if not self._listening:
            event.listen(Pool, "connect", connected)
            event.listen(Pool, "checkin", checked_in)
            self._listening = True

    def seconds(self) -> float:
        """Server CPU so far, summed over the backends seen."""
        return sum(self.last.get(pid, start) - start for pid, start in self.first.items())


SERVER = ServerCpu()


def timed_import(url: str, path: Path, organization_id: int, provider_id: int) -> dict[str, Any]:
    """One run of the import of ``path``; its summary and patients (rows) per second."""
    settings = Settings(database_url=url)
    source = open_source(path, format="csv", encoding="utf-8", mapping={})
    # As the command runs it: every batch checked for duplicates (cli/imports.py).
    options = ImportOptions(provider_id, on_batch=duplicate_notes)
    plan = Plan(source, organization_id, provider_id, options)

    async def work(sessions: Sessions) -> Summary:
        return await run_import(plan, sessions, Passwords(settings), report=lambda _: None)

    postgres = url.startswith("postgresql")
    if postgres:
        SERVER.start()
    server_before = SERVER.seconds()
    started, cpu = time.perf_counter(), time.process_time()
    summary = in_transactions(settings, work, command="import patients")
    seconds = time.perf_counter() - started
    if summary.stopped or summary.failed_rows:
        raise SystemExit(f"the import did not go through: {summary.stopped or summary}")
    # CPU of this process, all threads (SQLite's work runs in it; PostgreSQL's in the server):
    # what the rows cost whatever else the machine is running.
    cpu = time.process_time() - cpu
    server = SERVER.seconds() - server_before if postgres else 0.0
    both = {"server_cpu_seconds": round(server, 2),
            "rows_per_client_and_server_cpu_second": round(summary.rows / (cpu + server), 1),
            } if postgres else {}  # fmt: skip
    return {
        "rows": summary.rows,
        "created": summary.created,
        "updated": summary.updated,
        "failed_rows": summary.failed_rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(summary.rows / seconds, 1),
        "process_cpu_seconds": round(cpu, 2),
        "rows_per_process_cpu_second": round(summary.rows / cpu, 1),
        **both,
    }


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Options of ``python -m bench.imports``."""
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url")
    parser.add_argument("--patients", type=int, help="Patients already there (1,000,000).")
    parser.add_argument("--rows", type=int, help="Rows of the file to import (50,000).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="Smoke run: small N.")
    parser.add_argument("--skip-generate", action="store_true", help="Reuse the database.")
    args = parser.parse_args(argv)
    args.patients = args.patients or (20_000 if args.quick else 1_000_000)
    args.rows = args.rows or (5_000 if args.quick else 50_000)
    args.database_url = args.database_url or default_url(args.database, args.quick)
    args.command = "python -m bench.imports " + " ".join(argv if argv is not None else sys.argv[1:])
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """``python -m bench.imports``."""
    args = parse(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.skip_generate:
        log(f"generating {args.patients:,} patients")
        asyncio.run(generate(Options(args.database_url, args.patients, args.seed), log=log))
        log("keying them for duplicate detection (the generator writes no blocking keys)")
        asyncio.run(key_patients(args.database_url))
    # A reused database may predate a migration of this code.
    asyncio.run(upgrade_async(args.database_url))
    organization_id, provider_id, held = asyncio.run(organization_of_bench(args.database_url))
    run = f"{int(time.time())}"
    path = RESULTS / f"import-{args.database}-{run}.csv"
    write_file(path, args.rows, run, args.seed)
    log(f"importing {args.rows:,} new patients into organization {organization_id} ({held:,})")
    first = timed_import(args.database_url, path, organization_id, provider_id)
    log(f"new patients: {first['rows_per_second']:,.0f} rows/s ({first})")
    again = timed_import(args.database_url, path, organization_id, provider_id)
    log(f"same file again (updates): {again['rows_per_second']:,.0f} rows/s ({again})")
    path.unlink()
    result = {"command": args.command, "database": args.database, "patients_before":
              held, "new": first, "rerun": again}  # fmt: skip
    (RESULTS / f"import-{args.database}-{run}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
