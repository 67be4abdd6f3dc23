"""CAREBOOK_DATABASE_READ_URL on a real streaming replica (docs/production.md, Read replica).

One primary and replica per test process (tests/support/replica.py), clusters of their own
(``initdb``, then ``pg_basebackup`` from it), whatever the test server's configuration. Lag is
made on purpose: ``replica.pause()`` stops its replay, so anything written afterwards is on the
primary only until ``replica.catch_up()``. A read that misses such a write read the replica; a
read that sees it read the primary.
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
from typing import Any

import asyncpg
import httpx
import pytest
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.conftest import BACKENDS, FAST_PATHS, _empty_tables
from tests.support.api import Api
from tests.support.contexts import context_without_request
from tests.support.replica import CATCH_UP_DEADLINE, Replica, start_replica
from tests.support.scheduling import AWELL_DELETE, AWELL_UPDATE, CREATE_APPOINTMENT, create_type
from tests.support.seed_documents import CREATE_CLIENT, GET_USER
from tests.support.serving import wait_until_healthy
from tests.support.world import PATIENT_PASSWORD as PASSWORD
from tests.support.world import World, build_world

from carebook.app import create_app
from carebook.audit.models import AuditEvent
from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.db.health import REPLICA_UNREACHABLE, readiness
from carebook.db.migrate import upgrade
from carebook.graphql.context import Context
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
def replica() -> Iterator[Replica]:
    """A primary and its replica of their own (tests/support/replica.py)."""
    started = asyncio.run(start_replica())
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def primary_url(replica: Replica) -> str:
    """A migrated database on that primary (replicated with the cluster)."""
    asyncio.run(_on(replica.primary.dsn(), "CREATE DATABASE carebook"))
    url = replica.primary_url("carebook")
    upgrade(url)
    return url


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
    caught_up = await _list_once_replayed(api, new_id)
    assert caught_up["usersCount"] == before + 1


async def _list_once_replayed(api: Api, user_id: str) -> dict[str, Any]:
    """The list of "Salk" (read on the replica) once it holds ``user_id``, within a bound: the
    pooled standby connection that answered during the lag can answer from its earlier
    snapshot for a moment after catch_up() (as :func:`_calendar_once_replayed` says; CI saw this
    list empty right after catch_up under load)."""
    deadline = asyncio.get_running_loop().time() + CATCH_UP_DEADLINE
    while True:
        listed: dict[str, Any] = await api.data(LIST, {"keywords": "Salk"})
        if user_id in [user["id"] for user in listed["users"]]:
            return listed
        assert asyncio.get_running_loop().time() < deadline, listed
        await asyncio.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _calendar_once_replayed(api: Api, count: int) -> dict[str, Any]:
    """The calendar (read on the replica) once it lists ``count`` appointments, within a bound.

    catch_up() returns when the replica has replayed the commit (pg_last_wal_replay_lsn()), but a
    standby backend that served a query during the lag can answer from its earlier snapshot for
    a moment after that (CI: the pooled connection listed nothing right after catch_up while a
    new connection listed the row; both listed it a moment later). Replayed means visible to
    the connections the app holds, so wait for that, not for the LSN alone.
    """
    deadline = asyncio.get_running_loop().time() + CATCH_UP_DEADLINE
    while True:
        listed: dict[str, Any] = await api.data(APPOINTMENTS)
        if listed["appointmentsCount"] == count:
            return listed
        assert asyncio.get_running_loop().time() < deadline, listed
        await asyncio.sleep(0.05)


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
    listed = await _calendar_once_replayed(api, 1)
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
    context = _context(replica_settings, replicated)
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


async def test_a_list_read_gives_its_replica_connection_back_at_once(
    replica_settings: Settings, replicated: Database
) -> None:
    """A request holds no replica connection between its list reads: one holding it while it
    waits for a primary connection, and another the other way round, would wait forever on
    each other once both pools are full."""
    context = _context(replica_settings, replicated)
    count = select(func.count()).select_from(User)
    assert replicated.replica is not None
    pool = replicated.replica.sync_engine.pool
    try:
        await context.read(lambda s: _scalar(s, count))  # the primary's, kept for the request
        await context.read(lambda s: _scalar(s, count), may_lag=True)
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await context.close()


def _context(settings: Settings, database: Database) -> Context:
    return context_without_request(settings, database)


async def test_a_patient_never_lists_an_appointment_no_longer_theirs(
    provider: tuple[Api, World], replica: Replica
) -> None:
    """A patient's appointments are read on the primary: on a lagging replica an appointment
    given to another patient, or deleted, would still be listed as theirs."""
    api, world = provider
    type_id = await create_type(api)
    day = (datetime.now(UTC) + timedelta(days=5)).date()
    ids = []
    for hour in (10, 12):
        booking = {
            "user_id": str(world.a.patient_id),
            "type": type_id,
            "datetime": f"{day}T{hour}:00:00+00:00",
        }
        booked = (await api.data(CREATE_APPOINTMENT, booking))["createAppointment"]
        assert booked["messages"] is None, booked
        ids.append(booked["appointment"]["id"])
    patient = Api(api.client).with_token(world.a.patient_token)
    await replica.catch_up()
    listed = await patient.data(APPOINTMENTS)
    assert sorted(row["id"] for row in listed["appointments"]) == sorted(ids)
    assert (await _calendar_once_replayed(api, 2))["appointmentsCount"] == 2

    await replica.pause()
    moved = {"input": {"id": ids[0], "user_id": str(world.a.other_patient_id)}}
    assert (await api.data(AWELL_UPDATE, moved))["updateAppointment"]["messages"] is None
    deleted = (await api.data(AWELL_DELETE, {"id": ids[1]}))["deleteAppointment"]
    assert deleted["messages"] is None
    assert await patient.data(APPOINTMENTS) == {"appointments": [], "appointmentsCount": 0}
    # The provider's calendar still reads the replica: both are there until it replays.
    assert (await api.data(APPOINTMENTS))["appointmentsCount"] == 2


async def test_revoked_credentials_are_refused_while_the_replica_lags(
    provider: tuple[Api, World], replica: Replica
) -> None:
    """docs/security.md: a revocation takes effect at once whatever the replication lag (the
    token and the key are still valid on the paused replica)."""
    api, world = provider
    patient = Api(api.client).with_token(world.a.patient_token)
    assert not await _refused(patient) and not await _refused(api)
    await replica.pause()
    for caller in (patient, api):
        assert (await caller.data(REVOKE_TOKEN))["revokeToken"]["messages"] is None
        assert await _refused(caller)


REVOKE_TOKEN = "mutation { revokeToken(input: {}) { messages { field message } } }"


async def _refused(api: Api) -> bool:
    return await api.error_codes("query { currentUser { id } }") == ["UNAUTHENTICATED"]


async def test_the_replicas_pool_is_measured_and_its_statements_traced(
    replica_settings: Settings, replicated: Database, replica: Replica
) -> None:
    world = await build_world(replicated, Passwords(replica_settings))
    await replica.catch_up()
    spans = InMemorySpanExporter()
    tracer = TracerProvider()
    tracer.add_span_processor(SimpleSpanProcessor(spans))
    token = "scrape-token-for-tests-0123456789"
    settings = replica_settings.model_copy(
        update={"metrics": True, "metrics_token": token, "otel": True}
    )
    app = create_app(settings, replicated, tracer_provider=tracer)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
            await Api(http).with_key(world.a.provider.api_key).data(LIST, {"keywords": "IentA"})
            scraped = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    finally:
        SQLAlchemyInstrumentor().uninstrument()  # one per process: later apps start untraced
    assert 'carebook_db_pool_size{pool="replica"}' in scraped.text
    # The statements' spans (the instrumentor traces every engine's connects by itself).
    ports = {
        str(value)
        for span in spans.get_finished_spans()
        if "db.statement" in (attributes := span.attributes or {})
        for key, value in attributes.items()
        if key.endswith("port")
    }
    assert str(replica.port) in ports  # the list's statements, on the replica's engine


async def test_every_scalar_field_of_a_listed_user_resolves_after_its_list_session_closed(
    provider: tuple[Api, World],
) -> None:
    """A list read on the replica closes its session before the fields resolve: what a listed
    user shows must never need that session again (a lazy load would fail on a closed one)."""
    api, world = provider
    introspected = await api.data(INTROSPECT_USER)
    fields = [
        field["name"]
        for field in introspected["__type"]["fields"]
        if _unwrapped(field["type"]) in {"SCALAR", "ENUM"}
        and not any(arg["type"]["kind"] == "NON_NULL" for arg in field["args"])
    ]
    assert len(fields) > 20, fields
    query = f'query {{ users(keywords: "IentA") {{ {" ".join(fields)} }} }}'
    listed = await api.data(query)
    assert {int(user["id"]) for user in listed["users"]} == {
        world.a.patient_id,
        world.a.other_patient_id,
    }


INTROSPECT_USER = """query { __type(name: "User") { fields {
  name args { type { kind } } type { kind ofType { kind ofType { kind } } } } } }"""


def _unwrapped(type_: dict[str, Any]) -> str:
    while type_.get("ofType") and type_["kind"] in {"NON_NULL", "LIST"}:
        type_ = type_["ofType"]
    return str(type_["kind"])
