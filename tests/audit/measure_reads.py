"""What the audit trail costs a read: ``python -m tests.audit.measure_reads [--seconds S]``.

Starts ``carebook serve`` (one worker, SQLite in a temporary directory) three times: with the
audit trail switched off in the process (a baseline only; the product has no such switch), with
CAREBOOK_AUDIT_WAIT_FOR_READS true (the default) and false. It drives ``user(id)`` with the
benchmark's keep-alive client and prints requests/s, latency, and stored events per answered
request (1.0: every read recorded). Run it on an idle machine; the client shares the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from bench.client import HttpCaller, run_load
from bench.run import free_port, server
from sqlalchemy import func, select

from carebook import builders
from carebook.audit.models import AuditEvent
from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.migrate import upgrade

WARMUP = 200
# `carebook serve` with no audit state on requests: nothing is recorded (the baseline).
UNAUDITED = (
    "import sys; from carebook.graphql.audit import request;"
    "request.RequestAudit.for_request = classmethod(lambda cls, *a, **k: None);"
    "from carebook.cli.main import app; sys.argv[0] = 'carebook'; app()"
)


async def _seed(url: str) -> tuple[str, int]:
    settings = Settings(database_url=url, argon2_time_cost=1, argon2_memory_cost_kib=1024)
    database = create_database(settings)
    async with database.write_sessions() as session, session.begin():
        provider = await builders.provider(
            session, Passwords(settings), email="m@example.com", first_name="M", last_name="R"
        )
        patient = await builders.patient(
            session, Passwords(settings), actor=builders.actor_of(provider),
            first_name="P", last_name="Q", email="p@example.com",
        )  # fmt: skip
    await database.dispose()
    return provider.api_key, patient.id


async def _events(url: str) -> int:
    database = create_database(Settings(database_url=url))
    async with database.read_sessions() as session:
        count = int((await session.execute(select(func.count(AuditEvent.id)))).scalar_one())
    await database.dispose()
    return count


def _measure(url: str, key: str, patient_id: int, mode: str, seconds: float) -> dict[str, object]:
    port = free_port()
    document = "query($id: ID) { user(id: $id) { id first_name } }"
    body = json.dumps({"query": document, "variables": {"id": str(patient_id)}}).encode()
    headers = {"Authorization": f"Basic {key}", "AuthorizationSource": "API"}
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--database-url", url]
    launcher = [sys.executable, "-c", UNAUDITED] if mode == "off" else ["carebook"]
    env = {"CAREBOOK_AUDIT_WAIT_FOR_READS": "false" if mode == "no-wait" else "true"}
    before = asyncio.run(_events(url))
    with server([*launcher, *serve], env, port, "audit-measure"):
        caller = HttpCaller(port, headers, lambda _: ("/graphql", body), lambda _s, p: b'"P"' in p)
        load = run_load(
            "user", mode, caller, concurrency=32, duration=seconds,
            max_requests=10**9, warmup=WARMUP,
        )  # fmt: skip
        stats = asyncio.run(load)
    answered = stats.requests + WARMUP  # the warm-up calls are recorded too
    stored = asyncio.run(_events(url)) - before
    return {
        "audit": mode,
        "rps": round(stats.rps),
        "median_ms": round(stats.median_ms, 2),
        "p99_ms": round(stats.p99_ms, 2),
        "errors": stats.errors,
        "events_per_request": round(stored / answered, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'audit.db'}"
        upgrade(url)
        key, patient_id = asyncio.run(_seed(url))
        for mode in ("off", "wait", "no-wait"):
            print(json.dumps(_measure(url, key, patient_id, mode, seconds)))


if __name__ == "__main__":
    main()
