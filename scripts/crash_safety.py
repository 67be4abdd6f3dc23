#!/usr/bin/env python
"""Crash safety: SIGKILL ``carebook serve`` under write load and prove nothing acknowledged is lost.

    python scripts/crash_safety.py --database sqlite|postgresql [--duration S] [--workers N]

On a fresh database (a temporary SQLite file, or a throwaway PostgreSQL database that is dropped
afterwards) the script starts ``carebook serve``, runs concurrent ``createClient`` and
``updateClient`` calls over HTTP, kills the server's whole process group with SIGKILL while the
load runs, restarts it, and checks in the database that

- every acknowledged create is there with the values it was acknowledged with, and every
  patient's last acknowledged update is (or the one in flight at the kill, which may have
  committed without its answer arriving);
- no write is half done: every patient has exactly the search tokens of its row, its care-team
  row, its invitation token and its welcome email (the rows one ``createClient`` writes);
- no client ever saw "database is locked" or an internal error.

It prints acknowledged, found, lost (and the rest) and exits 1 on any loss, half-done write or
locked/internal error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.models import SignupToken
from carebook.auth.roles import Role
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.notifications.models import EmailKind, OutboxMessage
from carebook.search.index import searchable
from carebook.search.models import SearchToken
from carebook.search.text import tokens_of
from carebook.users.models import CareTeamMember, User

POSTGRES_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432"
CREATE = """mutation($input: createClientInput) {
  createClient(input: $input) { user { id } messages { field message } } }"""
UPDATE = """mutation($input: updateClientInput) {
  updateClient(input: $input) { user { id last_name } messages { field message } } }"""


def letters(number: int) -> str:
    """A number spelled in letters: names are indexed as words, and digits would split them."""
    text = ""
    while True:
        number, digit = divmod(number, 26)
        text = chr(ord("a") + digit) + text
        if number == 0:
            return text.capitalize()


@dataclass
class Patient:
    """One acknowledged createClient and what happened to it afterwards."""

    id: int
    first_name: str
    email: str
    record_identifier: str
    last_names: list[str]  # the created one, then each acknowledged update in order
    in_flight: str | None = None  # an update sent but not answered when the server died


@dataclass
class Load:
    """Everything the writers saw."""

    patients: list[Patient] = field(default_factory=list)
    acknowledged_updates: int = 0
    rejected: int = 0  # answered with messages: a definite "nothing written"
    locked: int = 0  # "database is locked" in any answer
    internal: int = 0  # INTERNAL_SERVER_ERROR or a 5xx
    unanswered: int = 0  # connection dropped: the kill, or an overloaded server before it
    errors: list[str] = field(default_factory=list)


class Writer:
    """One client connection creating patients and updating its own ones, one call at a time."""

    def __init__(
        self, number: int, http: httpx.AsyncClient, other_provider: str, load: Load
    ) -> None:
        self.number = number
        self.http = http
        self.other_provider = other_provider
        self.load = load
        self.mine: list[Patient] = []
        self.sequence = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Write until ``stop`` is set or the server stops answering."""
        while not stop.is_set():
            self.sequence += 1
            try:
                if self.mine and random.random() < 0.5:
                    await self._update(random.choice(self.mine))
                else:
                    await self._create()
            except httpx.TransportError:
                # The server is gone (or stuck): this request's fate is unknown, so this writer
                # sends nothing more and its in-flight value stays recorded as such.
                self.load.unanswered += 1
                return

    def _name(self) -> str:
        return f"W{letters(self.number)}x{letters(self.sequence)}"

    async def _create(self) -> None:
        tag = f"{self.number}-{self.sequence}"
        fields: dict[str, Any] = {
            "first_name": "Crash",
            "last_name": self._name(),
            "email": f"crash.{tag}@example.com",
            "record_identifier": f"CR-{tag}",
            "other_provider_ids": [self.other_provider],
        }
        user = await self._call(CREATE, fields, "createClient")
        if user is not None:
            patient = Patient(
                int(user["id"]),
                "Crash",
                fields["email"],
                fields["record_identifier"],
                [fields["last_name"]],
            )
            self.mine.append(patient)
            self.load.patients.append(patient)

    async def _update(self, patient: Patient) -> None:
        new_name = self._name()
        patient.in_flight = new_name
        user = await self._call(
            UPDATE, {"id": str(patient.id), "last_name": new_name}, "updateClient"
        )
        patient.in_flight = None
        if user is not None:
            patient.last_names.append(new_name)
            self.load.acknowledged_updates += 1

    async def _call(self, query: str, fields: dict[str, Any], name: str) -> dict[str, Any] | None:
        """The payload's user when the write was acknowledged, else None (and counted)."""
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": {"input": fields}}
        )
        if "locked" in response.text.lower():
            self.load.locked += 1
        if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in response.text:
            self.load.internal += 1
            self.load.errors.append(response.text[:300])
            return None
        body = response.json()
        payload = (body.get("data") or {}).get(name) or {}
        if body.get("errors") or payload.get("messages") or not payload.get("user"):
            self.load.rejected += 1
            self.load.errors.append(json.dumps(body)[:300])
            return None
        user: dict[str, Any] = payload["user"]
        return user


# --- the database and the server -------------------------------------------------------------


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """A URL of an empty database that is removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="carebook-crash-") as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'carebook.db'}"
        return
    name = f"carebook_crash_{uuid.uuid4().hex[:10]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_ADMIN}/{name}"
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres_admin(sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(POSTGRES_ADMIN.replace("+asyncpg", "") + "/postgres")
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def carebook(env: dict[str, str], *args: str) -> str:
    """Run a ``carebook`` command to completion and return what it printed."""
    command = [sys.executable, "-m", "carebook.cli.main", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def provider(env: dict[str, str], email: str, *, create: bool = False) -> dict[str, str]:
    """``carebook provider create --json`` in the shared organization (``create``: the first
    provider, who creates it; ``--organization`` alone joins an existing one)."""
    out = carebook(
        env,
        "provider",
        "create",
        "--email",
        email,
        "--first-name",
        "Crash",
        "--last-name",
        "Test",
        "--organization",
        "Crash Clinic",
        *(["--create-organization"] if create else []),
        "--json",
    )
    result: dict[str, str] = json.loads(out)
    return result


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(
    env: dict[str, str], port: int, workers: int, log: Path
) -> subprocess.Popen[bytes]:
    """``carebook serve`` in its own process group (so one SIGKILL takes every worker)."""
    command = [
        sys.executable,
        "-m",
        "carebook.cli.main",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with log.open("ab") as out:
        server = subprocess.Popen(
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.2)
    kill(server)
    raise SystemExit(f"carebook serve did not start; see {log}")


def kill(server: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server's process group: no shutdown, no flush, no goodbye."""
    with suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


# --- the load ---------------------------------------------------------------------------------


async def run_load(
    port: int, keys: tuple[str, str], writers: int, duration: float, server: subprocess.Popen[bytes]
) -> Load:
    """Concurrent writers for ``duration`` seconds; the server is killed while they write."""
    api_key, other_provider = keys
    headers = {"Authorization": f"Basic {api_key}", "AuthorizationSource": "API"}
    load = Load()
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=writers)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30, limits=limits
    ) as http:
        tasks = [
            asyncio.create_task(Writer(n, http, other_provider, load).run(stop))
            for n in range(writers)
        ]
        await asyncio.sleep(duration)
        kill(server)  # mid-load: every writer has a request in flight or about to be
        stop.set()
        await asyncio.gather(*tasks)
    return load


# --- the verdict ------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What the database holds after the restart, measured against what was acknowledged."""

    acknowledged: int = 0
    found: int = 0
    lost: int = 0
    half_done: int = 0
    patients_in_database: int = 0
    problems: list[str] = field(default_factory=list)


async def verify(database_url: str, load: Load) -> Verdict:
    """Compare the restarted database with the acknowledged writes, and look for half writes."""
    database = create_database(Settings(database_url=database_url))
    verdict = Verdict()
    try:
        async with database.read_sessions() as session:
            rows = {
                u.id: u
                for u in (
                    await session.scalars(select(User).where(User.role == Role.PATIENT.value))
                ).all()
            }
            verdict.patients_in_database = len(rows)
            for patient in load.patients:
                _check_acknowledged(patient, rows.get(patient.id), verdict)
            for row in rows.values():
                await _check_complete(session, row, verdict)
    finally:
        await database.dispose()
    return verdict


def _check_acknowledged(patient: Patient, row: User | None, verdict: Verdict) -> None:
    writes = len(patient.last_names)  # the create and each acknowledged update
    verdict.acknowledged += writes
    if row is None or (row.first_name, row.email, row.record_identifier) != (
        patient.first_name,
        patient.email,
        patient.record_identifier,
    ):
        verdict.lost += writes
        verdict.problems.append(f"patient {patient.id}: acknowledged create missing or altered")
        return
    if row.last_name == patient.in_flight:
        verdict.found += writes  # the unanswered update committed: every earlier one is there
        return
    if row.last_name not in patient.last_names:
        verdict.lost += writes - 1
        verdict.found += 1
        verdict.problems.append(f"patient {patient.id}: last_name is no acknowledged value")
        return
    present = len(patient.last_names) - patient.last_names[::-1].index(row.last_name)
    verdict.found += present
    verdict.lost += writes - present
    if present < writes:
        verdict.problems.append(f"patient {patient.id}: {writes - present} updates rolled back")


async def _check_complete(session: AsyncSession, row: User, verdict: Verdict) -> None:
    tokens = set(
        (
            await session.scalars(select(SearchToken.token).where(SearchToken.user_id == row.id))
        ).all()
    )
    team = (
        await session.scalars(
            select(CareTeamMember.provider_id).where(CareTeamMember.patient_id == row.id)
        )
    ).all()
    invitations = (
        await session.scalars(select(SignupToken.id).where(SignupToken.user_id == row.id))
    ).all()
    welcome = (
        await session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.recipient_user_id == row.id,
                OutboxMessage.kind == EmailKind.WELCOME.value,
            )
        )
    ).all()
    missing = [
        name
        for name, ok in (
            ("search tokens", tokens == tokens_of(searchable(row))),
            ("care team", len(team) == 1),
            ("invitation", len(invitations) == 1),
            ("welcome email", len(welcome) == 1),
        )
        if not ok
    ]
    if missing:
        verdict.half_done += 1
        verdict.problems.append(f"patient {row.id}: half done, wrong {', '.join(missing)}")


# --- the run ----------------------------------------------------------------------------------


def run(arguments: argparse.Namespace) -> int:
    """One crash-and-check round; the exit status of the script."""
    with (
        fresh_database(arguments.database) as database_url,
        tempfile.TemporaryDirectory(prefix="carebook-crash-log-") as logs,
    ):
        env = server_env(database_url, arguments.sqlite_synchronous)
        carebook(env, "db", "upgrade")
        main = provider(env, "crash.main@example.com", create=True)
        other = provider(env, "crash.other@example.com")
        port, log = free_port(), Path(logs) / "serve.log"
        server = start_server(env, port, arguments.workers, log)
        started = time.monotonic()
        load = asyncio.run(
            run_load(
                port, (main["api_key"], other["id"]), arguments.writers, arguments.duration, server
            )
        )
        elapsed = time.monotonic() - started
        restarted = start_server(env, port, arguments.workers, log)  # recovery happens here
        kill(restarted)
        verdict = asyncio.run(verify(database_url, load))
        server_errors = log.read_text(errors="replace").count("internal error")
    report(arguments, load, verdict, elapsed, server_errors)
    failed = verdict.lost or verdict.half_done or load.locked or load.internal or server_errors
    return 1 if failed else 0


def server_env(database_url: str, synchronous: str | None) -> dict[str, str]:
    """The server's environment: the database, cheap password hashing, no SMTP."""
    env = {
        **os.environ,
        "CAREBOOK_DATABASE_URL": database_url,
        "CAREBOOK_ARGON2_TIME_COST": "1",
        "CAREBOOK_ARGON2_MEMORY_COST_KIB": "1024",
    }
    env.pop("CAREBOOK_SMTP_URL", None)
    if synchronous:
        env["CAREBOOK_SQLITE_SYNCHRONOUS"] = synchronous
    return env


def report(
    arguments: argparse.Namespace, load: Load, verdict: Verdict, elapsed: float, server_errors: int
) -> None:
    """The figures, one per line, then the first few problems."""
    creates = len(load.patients)
    sync = arguments.sqlite_synchronous or "default"
    setup = (
        f"database={arguments.database} serve_workers={arguments.workers} "
        f"writers={arguments.writers} sqlite_synchronous={sync}"
    )
    print(setup)
    print(
        f"acknowledged={verdict.acknowledged} (creates={creates}, "
        f"updates={load.acknowledged_updates}) in {elapsed:.1f}s = "
        f"{verdict.acknowledged / elapsed:.0f} writes/s"
    )
    print(
        f"found={verdict.found} lost={verdict.lost} half_done={verdict.half_done} "
        f"patients_in_database={verdict.patients_in_database}"
    )
    print(
        f"database_is_locked={load.locked} internal_errors={load.internal} "
        f"server_logged_internal_errors={server_errors} rejected={load.rejected} "
        f"unanswered={load.unanswered}"
    )
    for line in [*verdict.problems, *load.errors][:10]:
        print("  " + line)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument(
        "--duration", type=float, default=15.0, help="seconds of load before the SIGKILL"
    )
    parser.add_argument("--workers", type=int, default=2, help="carebook serve --workers")
    parser.add_argument("--writers", type=int, default=8, help="concurrent HTTP writers")
    parser.add_argument(
        "--sqlite-synchronous",
        choices=["FULL", "NORMAL", "EXTRA"],
        help="CAREBOOK_SQLITE_SYNCHRONOUS for the server (default: its own)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(parse()))
