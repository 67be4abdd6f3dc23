"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

``CAREBOOK_TEST_DATABASES`` (default ``sqlite,postgresql``) picks the backends;
``CAREBOOK_TEST_POSTGRES_URL`` points at a server where a throwaway database is created.
A backend that is asked for but unreachable fails the run: it is never skipped silently.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from carebook.app import create_app
from carebook.auth.passwords import Passwords
from carebook.checkout.payments import TestPaymentProvider
from carebook.config import TEST_PAYMENT_PROVIDER, Settings
from carebook.db.engine import Database, create_database
from carebook.db.migrate import upgrade
from carebook.db.models import data_tables
from tests.audit.cleanup import clear_sqlite_audit_events
from tests.support.api import Api
from tests.support.world import World, build_world

BACKENDS = [
    b.strip()
    for b in os.environ.get("CAREBOOK_TEST_DATABASES", "sqlite,postgresql").split(",")
    if b.strip()
]
POSTGRES_URL = os.environ.get(
    "CAREBOOK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


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
    )


@pytest.fixture
def payment_provider() -> TestPaymentProvider:
    """The payment provider of the ``client`` app, whose charges a test can look at."""
    return TestPaymentProvider()


@pytest.fixture
def passwords(settings: Settings) -> Passwords:
    """The password hasher the app under test uses."""
    return Passwords(settings)


async def _empty_tables(database: Database) -> None:
    tables = data_tables()
    async with database.write_sessions() as session, session.begin():
        if database.engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                if table.name == "audit_events":  # append-only: see tests/audit/cleanup.py
                    await clear_sqlite_audit_events(session)
                else:
                    await session.execute(table.delete())


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The engine of the test database, emptied after each test."""
    db = create_database(settings)
    yield db
    await _empty_tables(db)
    await db.dispose()


@pytest.fixture
async def client(
    settings: Settings, database: Database, payment_provider: TestPaymentProvider
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real ASGI app."""
    app = create_app(settings, database, payments=payment_provider)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    """GraphQL calls over HTTP, anonymous until given credentials."""
    return Api(client)


@pytest.fixture
async def world(database: Database, passwords: Passwords) -> World:
    """Two organizations with providers, staff, groups and patients (see tests/support/world.py)."""
    return await build_world(database, passwords)
