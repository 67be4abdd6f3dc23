"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

``CAREBOOK_TEST_DATABASES`` (default ``sqlite,postgresql``) picks the backends;
``CAREBOOK_TEST_POSTGRES_URL`` points at a server where a throwaway database is created.
``CAREBOOK_TEST_FAST_PATHS=off`` runs every test with the database's fast paths off (plain
SQLAlchemy on one engine, carebook.db.engine), except tests of a fast path itself, which turn
them on for their own databases.
A backend that is asked for but unreachable fails the run: it is never skipped silently.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from strawberry import Schema

from carebook.app import create_app, schema_for
from carebook.auth.passwords import Passwords
from carebook.checkout.payments import TestPaymentProvider
from carebook.config import TEST_PAYMENT_PROVIDER, Settings
from carebook.db.engine import Database, create_database
from carebook.db.migrate import upgrade
from carebook.gc_pauses import FULL_COLLECTION_SECONDS, THRESHOLDS
from carebook.graphql.limits.extension import QueryLimits
from carebook.tables import data_tables
from carebook.users import credentials
from tests.audit.cleanup import clear_sqlite_audit_events
from tests.support.api import Api
from tests.support.compiled_cache import SharedCompiledCache, share_compiled_sql
from tests.support.postgres_scripts import emptying_script, run_script
from tests.support.world import (
    World,
    WorldSnapshot,
    build_world,
    database_is_empty,
    nonempty_tables,
    restore_world,
    snapshot_world,
)

BACKENDS = [
    b.strip()
    for b in os.environ.get("CAREBOOK_TEST_DATABASES", "sqlite,postgresql").split(",")
    if b.strip()
]
FAST_PATHS = os.environ.get("CAREBOOK_TEST_FAST_PATHS", "on").lower() not in {"off", "false", "0"}
if not FAST_PATHS:  # every Settings() of the run, servers started by the tests included
    os.environ["CAREBOOK_FAST_PATHS"] = "off"
POSTGRES_URL = os.environ.get(
    "CAREBOOK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# Every test's engines compile into one cache, as one server's do (tests/support/compiled_cache.py).
share_compiled_sql(SharedCompiledCache())


# The generated walks over the whole schema and the tests that start servers: together about a
# third of the suite's time. Marked ``slow`` so `-m "not slow"` leaves them out of a quick run
# (CI runs them, at full strength), and run first, longest first (_slow_rank) by the seconds each
# took on (SQLite, PostgreSQL) in CI (2026-12-05, two workers; a rough figure where none was
# logged).
# pytest-xdist's worksteal gives the first worker the first half of the list, slow tests first,
# and the other worker steals from the end of what is left: the tests that remain when a worker
# runs dry are then the shortest, and neither waits long for the other. (The 100,000-row import
# on PostgreSQL, 324 s, was last of this list: it started late and ran alone at the end.) Update
# a figure when a test's time changes much. A name here that matches no test of a collected file
# fails the run, so a renamed test cannot silently drop out of the list.
_SLOW = [
    ("tests/imports/test_batches.py", "test_a_100000_row_file_with_3_bad_rows", 54, 324),
    (
        "tests/security/test_patient_paths.py",
        "test_a_patient_reads_nothing_private_of_anyone_else",
        56,
        57,
    ),
    (
        "tests/security/test_isolation.py",
        "test_no_caller_reads_or_writes_another_organizations_records",
        53,
        65,
    ),
    (
        "tests/audit/test_coverage.py",
        "test_every_path_to_a_patients_records_records_the_read",
        50,
        63,
    ),
    ("tests/db/test_read_replica.py", "test_carebook_serve_reads_its_lists_on_the_replica", 18, 35),
    (
        "tests/webhooks/test_crash_safety.py",
        "test_every_acknowledged_change_is_delivered_after_a_kill",
        11,
        11,
    ),
    ("tests/bench/test_peer.py", "test_postgraphile_serves_the_rows_carebook_serves", 25, 25),
    ("tests/security/test_fuzz.py", "test_generated_documents_never_fault", 20, 20),
    ("tests/bench/test_spread.py", "test_connections_are_spread_evenly_over_two_workers", 15, 15),
    ("tests/bench/test_probe.py", "test_a_probe_measures_the_server", 15, 15),
    ("tests/search/test_search_oracle.py", "test_index_agrees_with_brute_force", 12, 12),
    ("tests/test_serve_workers.py", "test_two_slow_workers_both_start", 10, 10),
]
SLOW_SECONDS = {f"{path}::{name}": (sqlite, postgresql) for path, name, sqlite, postgresql in _SLOW}
SLOW_TESTS = tuple(SLOW_SECONDS)


def _slow_rank(nodeid: str) -> tuple[int, float]:
    """Where a test goes: PostgreSQL's slow tests (and those on neither database), then SQLite's,
    each longest first, then every other test. One database after the other: each switch of the
    session's database tears it down and migrates the other one again (a few seconds)."""
    name, _, param = nodeid.partition("[")
    figures = SLOW_SECONDS.get(name)
    if figures is None:
        return (2, 0)
    if param.startswith("sqlite"):
        return (1, -figures[0])
    if param.startswith("postgresql"):
        return (0, -figures[1])
    return (0, -max(figures))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a generated walk or a server started (SLOW_TESTS in tests/conftest.py)"
    )
    config.addinivalue_line(
        "markers",
        "only_on(*backends, reason): a test of one database's own behaviour, which exists on"
        " those backends only (never collected, so never skipped, on the others)",
    )
    config.pluginmanager.register(_SlowFirst(), "carebook-slow-first")


def _applies(item: pytest.Item) -> bool:
    """Whether ``item`` runs on its database: False for a test marked ``only_on`` other ones."""
    marker = item.get_closest_marker("only_on")
    if marker is None:
        return True
    if not marker.args or set(marker.args) - {"sqlite", "postgresql"}:
        raise pytest.UsageError(f"{item.nodeid}: only_on takes 'sqlite' and/or 'postgresql'")
    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("database_url") if callspec is not None else None
    if param is None:
        raise pytest.UsageError(f"{item.nodeid}: only_on is for tests run on each database")
    return param in marker.args


@pytest.hookimpl(tryfirst=True)  # before -m and -k choose: `-m "not slow"` needs the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Drops the variants of ``only_on`` tests on other databases (a test that does not apply
    to a database is not one of its tests, rather than one skipped: the run reports no skips);
    marks the tests of SLOW_TESTS ``slow``; fails if one in a collected file is not there."""
    items[:] = [item for item in items if _applies(item)]
    found: set[str] = set()
    for item in items:
        name = item.nodeid.split("[", 1)[0]
        if name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
            found.add(name)
    files = {item.nodeid.split("::", 1)[0] for item in items}
    missing = [name for name in SLOW_TESTS if name.split("::")[0] in files and name not in found]
    if missing:
        raise pytest.UsageError(f"SLOW_TESTS names tests that do not exist: {missing}")


class _SlowFirst:
    """Puts the slow tests first, longest first, after pytest grouped the tests by backend."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=lambda item: _slow_rank(item.nodeid))  # stable: others keep their order


# The collector as a served process runs it (carebook/gc_pauses.py): young collections as
# usual, full ones on a timer (here between two tests) instead of whenever the old generation grew
# by a quarter. The parser's cache (graphql/extensions.py) keeps the walks' wide documents, some
# two million objects: each automatic full collection then took about 2 s, 21 s of the patient
# walk's 80 (tests/security/test_patient_paths.py, SQLite, one process, 6 December 2026).
_last_full_collection = [time.monotonic()]


def pytest_sessionstart(session: pytest.Session) -> None:
    gc.set_threshold(*THRESHOLDS)


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """The timed full collection, between tests (the served process's timer, in a test process
    that runs no app's lifespan as a server): garbage cycles live at most a minute or a test."""
    if time.monotonic() - _last_full_collection[0] >= FULL_COLLECTION_SECONDS:
        gc.collect()
        _last_full_collection[0] = time.monotonic()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Full collections until one finds nothing (as pytest's own five at exit, which look for
    exceptions raised by finalizers: a finalizer may leave new garbage behind), then what
    survives is frozen, so that pytest's five scan nothing where each took seconds after the
    walks."""
    for _ in range(5):
        if gc.collect() == 0:
            break
    gc.freeze()


async def _postgres_admin(sql: str) -> None:
    import asyncpg

    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A freshly migrated database of each backend, shared by the session's tests."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "carebook.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    name = f"carebook_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def backend(database_url: str) -> str:
    """'sqlite' or 'postgresql'."""
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for tests: the test database and cheap password hashing."""
    return Settings(
        database_url=database_url,
        fast_paths=FAST_PATHS,
        argon2_time_cost=1,
        argon2_memory_cost_kib=1024,
        bulk_update_max_ids=50,
        # Paid checkouts are charged by the provider that accepts any card but tok_decline...
        payment_provider=TEST_PAYMENT_PROVIDER,
        # Every request looks its API key up, so statement counts and revocations are exact
        # (tests/auth/test_api_key_cache.py tests the cache itself).
        api_key_cache_seconds=0,
        # The schema walks sign in and up thousands of times from one address: limits high
        # enough never to trip, still counted (tests/ratelimit sets low ones).
        sign_in_account_limit=100_000,
        sign_in_address_limit=100_000,
        sign_up_address_limit=100_000,
        checkout_address_limit=100_000,
        enrollment_email_limit=100_000,
        enrollment_target_limit=100_000,
        reset_password_address_limit=100_000,
        reset_password_email_limit=100_000,
        reset_token_check_address_limit=100_000,
    )


# The schemas served, one per mode and query limits: a schema holds no state of a request or an
# app, and building one for each test's app cost some 30 ms of CPU, a minute of a CI run.
_SCHEMAS: dict[tuple[bool, QueryLimits], Schema] = {}


def _schema(settings: Settings) -> Schema:
    """The schema an app with these settings serves, built once per configuration."""
    key = (settings.production, QueryLimits.from_settings(settings))
    if key not in _SCHEMAS:
        _SCHEMAS[key] = schema_for(settings)
    return _SCHEMAS[key]


@pytest.fixture
def payment_provider() -> TestPaymentProvider:
    """The payment provider of the ``client`` app, whose charges a test can look at."""
    return TestPaymentProvider()


@pytest.fixture
def passwords(settings: Settings) -> Passwords:
    """The password hasher the app under test uses."""
    return Passwords(settings)


async def _empty_tables(database: Database) -> None:
    """Every table of data emptied, only those holding rows (most tests write to a handful of
    the forty-odd): on PostgreSQL by one script, one round trip (tests/support/postgres_scripts.py);
    on SQLite one statement finds the tables holding rows, then each is emptied."""
    tables = data_tables()
    if database.engine.dialect.name == "postgresql":
        await run_script(database, emptying_script(tuple(tables)))
        return
    async with database.write_sessions() as session, session.begin():
        filled = await nonempty_tables(await session.connection(), tables)
        for table in tables:
            if table.name not in filled:
                continue
            if table.name == "audit_events":  # append-only: see tests/audit/cleanup.py
                await clear_sqlite_audit_events(session)
            else:
                await session.execute(table.delete())


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The engine of the test database, emptied after each test.

    Process-wide caches are emptied first: a commit through the services that changes a
    remembered actor's user empties the API key cache (users/credentials.py), but a restored
    world is written without them, so a test would otherwise start with the actors an earlier
    test of its module looked up."""
    credentials.forget_api_key_actors()
    db = create_database(settings)
    yield db
    await _empty_tables(db)
    await db.dispose()


@pytest.fixture
async def client(
    settings: Settings,
    database: Database,
    payment_provider: TestPaymentProvider,
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real ASGI app."""
    app = create_app(settings, database, payments=payment_provider, schema=_schema(settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    """GraphQL calls over HTTP, anonymous until given credentials."""
    return Api(client)


# The worlds built in the current module, by settings (the database's URL among them): see
# tests/support/world.py. A module's first test builds its world; the others get its rows back.
#
# The rule: the snapshot's key is the settings alone. Whatever else the build reads (a clock,
# the password hasher, a service or builder a test monkeypatches) is not in the key, so a
# fixture or test that patches something the build uses must do so after ``world`` (depend on
# it), or build its own world with build_world: patched before ``world``, it would get the
# module's snapshot, made without the patch, when it is not the module's first test. The first
# restore of each snapshot is still compared with the snapshot, table by table.
_WORLDS: dict[str, WorldSnapshot] = {}
_WORLDS_MODULE: list[str] = [""]


@pytest.fixture
async def world(
    request: pytest.FixtureRequest, database: Database, passwords: Passwords, settings: Settings
) -> World:
    """Two organizations with providers, staff, groups and patients (see tests/support/world.py).

    Built through the services by a module's first test on each database (and whenever the
    settings differ); restored row for row from that build for the module's other tests, on a
    database just as empty (else built again)."""
    module = request.node.nodeid.split("::", 1)[0]
    if _WORLDS_MODULE[0] != module:
        _WORLDS.clear()
        _WORLDS_MODULE[0] = module
    key = settings.model_dump_json()
    tables = data_tables()
    snapshot = _WORLDS.get(key)
    if snapshot is not None:
        restored = await restore_world(database, snapshot, tables)
        if restored is not None:
            return restored
    # On the write pool's connection, which the build goes on with (no connection of its own).
    async with database.write_sessions() as session:
        empty = await database_is_empty(await session.connection(), tables)
    built = await build_world(database, passwords)
    if empty:
        _WORLDS[key] = await snapshot_world(database, built, tables)
    return built
