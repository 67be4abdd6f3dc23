"""CAREBOOK_DATABASE_READ_URL on a real streaming replica (docs/production.md, Read replica).

One replica per test process (tests/support/replica.py), made with pg_basebackup from the test
server, of a database of its own. Lag is made on purpose: ``replica.pause()`` stops its replay,
so anything written afterwards is on the primary only until ``replica.catch_up()``. A read that
misses such a write read the replica; a read that sees it read the primary.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import typer
from pydantic import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.conftest import BACKENDS, FAST_PATHS, POSTGRES_URL, _empty_tables, _postgres_admin
from tests.support.api import Api
from tests.support.replica import Replica, start_replica
from tests.support.scheduling import CREATE_APPOINTMENT, create_type
from tests.support.seed_documents import CREATE_CLIENT, GET_USER
from tests.support.serving import wait_until_healthy
from tests.support.world import PATIENT_PASSWORD as PASSWORD
from tests.support.world import World, build_world

from carebook.app import create_app
from carebook.audit.models import AuditEvent
from carebook.auth.passwords import Passwords
from carebook.cli.common import load_settings
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.db.health import REPLICA_UNREACHABLE, readiness
from carebook.db.migrate import upgrade
from carebook.graphql.context import Context
from carebook.search import SearchState
from carebook.startup import UnsafeSettings, check_read_url
from carebook.users.models import User

pytestmark = pytest.mark.skipif(
    "postgresql" not in BACKENDS, reason="a read replica is PostgreSQL's (CAREBOOK_TEST_DATABASES)"
)

SIGN_IN = """mutation($e: String, $p: String) {
  signIn(input: {email: $e, password: $p}) { token messages { field message } } }"""
APPOINTMENTS = "query { appointments { id } appointmentsCount }"
LIST = """query($keywords: String) { users(keywords: $keywords) { id last_name }
  usersCount(keywords: $keywords) }"""


@pytest.fixture(scope="module")
def primary_url() -> Iterator[str]:
    """A migrated database of its own on the test server (replicated with the cluster)."""
    name = f"carebook_replica_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    url = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def replica(primary_url: str) -> Iterator[Replica]:
    started = asyncio.run(start_replica(primary_url))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def replica_settings(primary_url: str, replica: Replica) -> Settings:
    return Settings(
        database_url=primary_url,
        database_read_url=replica.url_for(primary_url),
        fast_paths=FAST_PATHS,
        argon2_time_cost=1,
        argon2_memory_cost_kib=1024,
        api_key_cache_seconds=0,  # every request looks its key up (on the primary)
    )


@pytest.fixture
async def replicated(replica_settings: Settings, replica: Replica) -> AsyncIterator[Database]:
    await replica.catch_up()  # the previous test's clean-up is on the replica too
    database = create_database(replica_settings)
    try:
        yield database
    finally:
        await replica.catch_up()  # a test may end paused
        await _empty_tables(database)
        await database.dispose()


@pytest.fixture
async def provider(
    replica_settings: Settings, replicated: Database, replica: Replica
) -> AsyncIterator[tuple[Api, World]]:
    """Organization A's provider over the real app, the world on the replica too."""
    world = await build_world(replicated, Passwords(replica_settings))
    await replica.catch_up()
    app = create_app(replica_settings, replicated)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        yield Api(http).with_key(world.a.provider.api_key), world


async def _on(dsn: str, sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def test_lists_read_the_replica_while_writes_and_reads_by_id_see_the_primary(
    provider: tuple[Api, World], replica: Replica, replicated: Database
) -> None:
    api, _world = provider
    assert (await api.client.get("/readyz")).status_code == 200  # the replica probed too
    await _lists_lag_and_catch_up(api, replica)


@pytest.fixture
def served(replica_settings: Settings, replicated: Database) -> Iterator[str]:
    """``carebook serve`` with CAREBOOK_DATABASE_READ_URL, on the replicated database; its URL."""
    port = _free_port()
    env = {
        **os.environ,
        "CAREBOOK_DATABASE_URL": replica_settings.database_url,
        "CAREBOOK_DATABASE_READ_URL": str(replica_settings.database_read_url),
        "CAREBOOK_ACCESS_LOG": "false",
    }
    command = [sys.executable, "-m", "carebook.cli.main", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--no-migrate"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)  # /healthz probes the replica too
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_carebook_serve_reads_its_lists_on_the_replica(
    served: str, replica_settings: Settings, replicated: Database, replica: Replica
) -> None:
    world = await build_world(replicated, Passwords(replica_settings))
    await replica.catch_up()
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        await _lists_lag_and_catch_up(Api(http).with_key(world.a.provider.api_key), replica)


async def _lists_lag_and_catch_up(api: Api, replica: Replica) -> None:
    """A patient created while the replica is paused: in user(id) at once, in users and
    usersCount once the replica has caught up."""
    before = (await api.data(LIST, {"keywords": "Salk"}))["usersCount"]
    await replica.pause()

    created = await api.data(
        CREATE_CLIENT, {"first_name": "Jonas", "last_name": "Salk", "email": "jonas@example.com"}
    )
    assert created["createClient"]["messages"] is None, created
    new_id = created["createClient"]["user"]["id"]  # the mutation's own answer sees its write

    lagging = await api.data(LIST, {"keywords": "Salk"})
    assert new_id not in [user["id"] for user in lagging["users"]]
    assert lagging["usersCount"] == before
    # By id, a patient just created is there: user(id) reads the primary.
    assert (await api.data(GET_USER, {"id": new_id}))["user"]["last_name"] == "Salk"

    await replica.catch_up()
    caught_up = await api.data(LIST, {"keywords": "Salk"})
    assert new_id in [user["id"] for user in caught_up["users"]]
    assert caught_up["usersCount"] == before + 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_appointment_booked_during_the_lag_is_listed_once_replayed(
    provider: tuple[Api, World], replica: Replica, replicated: Database
) -> None:
    api, world = provider
    type_id = await create_type(api)
    day = (datetime.now(UTC) + timedelta(days=5)).date()
    await replica.pause()
    booking = {
        "user_id": str(world.a.patient_id),
        "type": type_id,
        "datetime": f"{day}T10:00:00+00:00",
    }
    booked = (await api.data(CREATE_APPOINTMENT, booking))["createAppointment"]
    assert booked["messages"] is None
    assert await api.data(APPOINTMENTS) == {"appointments": [], "appointmentsCount": 0}
    await replica.catch_up()
    listed = await api.data(APPOINTMENTS)
    assert [row["id"] for row in listed["appointments"]] == [booked["appointment"]["id"]]
    assert listed["appointmentsCount"] == 1


async def test_the_audit_trail_is_written_on_the_primary(
    provider: tuple[Api, World], replica: Replica, replicated: Database, primary_url: str
) -> None:
    api, world = provider
    await replica.pause()
    listed = await api.data(LIST, {"keywords": "IentA"})
    assert {int(user["id"]) for user in listed["users"]} == {
        world.a.patient_id,
        world.a.other_patient_id,
    }
    reads = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "read", AuditEvent.record_id == world.a.patient_id)
    )
    async with replicated.write_sessions() as session:
        assert (await session.execute(reads)).scalar_one() >= 1  # the primary has the read
    database = primary_url.rsplit("/", 1)[1]
    on_replica = await _on(
        replica.dsn(database),
        "SELECT count(*) FROM audit_events WHERE action = 'read' AND record_id = $1",
        world.a.patient_id,
    )
    assert on_replica == 0  # written after the replica paused: it was not written there


async def test_keys_and_credentials_written_during_the_lag_are_found(
    provider: tuple[Api, World], replica: Replica, replicated: Database
) -> None:
    api, world = provider
    await replica.pause()
    # An Idempotency-Key's record is looked up on the primary: the retry is a replay.
    headers = {**api.headers, "Idempotency-Key": str(uuid.uuid4())}
    marie = {"first_name": "Marie", "last_name": "Curie", "email": "mc@example.com"}
    body = {"query": CREATE_CLIENT, "variables": marie}
    first = await api.client.post("/graphql", json=body, headers=headers)
    again = await api.client.post("/graphql", json=body, headers=headers)
    assert first.json()["data"]["createClient"]["messages"] is None
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    # A session token issued now works at once: credentials are checked on the primary.
    signed_in = await Api(api.client).data(SIGN_IN, {"e": "patient.a@example.com", "p": PASSWORD})
    token = signed_in["signIn"]["token"]
    me = await Api(api.client).with_token(token).data("query { currentUser { id } }")
    assert int(me["currentUser"]["id"]) == world.a.patient_id


async def test_a_request_that_wrote_reads_its_lists_on_the_primary(
    replica_settings: Settings, replicated: Database, replica: Replica
) -> None:
    context = Context(
        request=None,
        response=None,
        settings=replica_settings,
        database=replicated,
        passwords=Passwords(replica_settings),
        search=SearchState(),
    )
    count = select(func.count()).select_from(User)
    await replica.pause()
    await build_world(replicated, Passwords(replica_settings))  # on the primary only
    try:
        lagging = await context.read(lambda s: _scalar(s, count), may_lag=True)
        fresh = await context.read(lambda s: _scalar(s, count))
        await context.end_read_transaction()  # what a mutation does before it writes
        after_write = await context.read(lambda s: _scalar(s, count), may_lag=True)
    finally:
        await context.close()
    assert lagging < fresh  # the list session reads the paused replica
    assert after_write == fresh  # once the request wrote, it reads the primary


async def _scalar(session: AsyncSession, statement: Select[Any]) -> int:
    return int((await session.execute(statement)).scalar_one())


async def test_without_a_replica_list_sessions_are_read_sessions(settings: Settings) -> None:
    database = create_database(settings.model_copy(update={"database_read_url": None}))
    try:
        assert database.list_sessions is database.read_sessions
    finally:
        await database.dispose()


async def test_readiness_names_a_replica_that_does_not_answer(primary_url: str) -> None:
    port = _free_port()  # nothing listens on it once the probe closed
    settings = Settings(
        database_url=primary_url,
        database_read_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x",
    )
    database = create_database(settings)
    try:
        problem = await readiness(database)
    finally:
        await database.dispose()
    assert problem is not None and problem.reason == REPLICA_UNREACHABLE


def test_sqlite_refuses_a_read_url(tmp_path: Path) -> None:
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'carebook.db'}"
    replica_url = "postgresql+asyncpg://postgres@127.0.0.1:5433/carebook"
    with pytest.raises(ValidationError, match="CAREBOOK_DATABASE_READ_URL needs PostgreSQL"):
        Settings(database_url=sqlite, database_read_url=replica_url)
    # carebook serve --database-url replaces the URL after the settings were validated.
    changed = Settings(database_read_url=replica_url, database_url=POSTGRES_URL).model_copy(
        update={"database_url": sqlite}
    )
    with pytest.raises(UnsafeSettings, match="needs PostgreSQL"):
        check_read_url(changed)
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        create_database(changed)


def test_commands_refuse_a_read_url_with_sqlite_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAREBOOK_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    monkeypatch.setenv("CAREBOOK_DATABASE_READ_URL", "postgresql+asyncpg://u:secret@h:9/x")
    with pytest.raises(typer.Exit) as exited:
        load_settings()
    assert exited.value.exit_code == 1
    stderr = capsys.readouterr().err
    assert "error: Value error, CAREBOOK_DATABASE_READ_URL needs PostgreSQL" in stderr
    assert "secret" not in stderr  # the rejected URL (with its password) is never echoed


def test_serve_refuses_a_read_url_with_a_sqlite_database_url(tmp_path: Path) -> None:
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'carebook.db'}"
    env = {
        **os.environ,
        "CAREBOOK_DATABASE_URL": POSTGRES_URL,
        "CAREBOOK_DATABASE_READ_URL": "postgresql+asyncpg://postgres:secret@127.0.0.1:9/x",
    }
    command = [sys.executable, "-m", "carebook.cli.main", "serve", "--port", "9"]
    command += ["--database-url", sqlite]  # applied after the settings were validated
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "CAREBOOK_DATABASE_READ_URL needs PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr
    assert "secret" not in done.stderr
    assert not (tmp_path / "carebook.db").exists()  # refused before anything was created


def test_a_read_url_must_be_postgresql() -> None:
    with pytest.raises(ValidationError, match="postgresql"):
        Settings(database_url=POSTGRES_URL, database_read_url="mysql://replica/carebook")
