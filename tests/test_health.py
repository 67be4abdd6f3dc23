"""/livez, /readyz and /healthz: readiness probes a read, a write and the migrations.

A read-only SQLite file: the tests run as root here, and root ignores file modes, so the file is
also made immutable (``chattr +i``, which binds root too); run as another user, the chmod alone
bites. Either way SQLite opens the file read-only, reads work, and writes fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.db.health import BEHIND, READ_ONLY, UNREACHABLE
from carebook.db.migrate import alembic_config, upgrade_async
from tests.support.migration import empty_url
from tests.support.unreachable import unreachable_url

__all__ = ["empty_url"]  # the fixture, used by name


@contextlib.asynccontextmanager
async def _http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with its own database (so its engines see the database as it is now)."""
    database = create_database(settings)
    app = create_app(settings, database)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            yield http
    finally:
        await database.dispose()


async def test_live_ready_and_health_answer_ok(client: httpx.AsyncClient) -> None:
    for path in ("/livez", "/readyz", "/healthz"):
        answer = await client.get(path)
        assert (answer.status_code, answer.json()) == (200, {"status": "ok"}), path


@contextlib.contextmanager
def _read_only_file(path: Path) -> Iterator[None]:
    """``path`` cannot be written by this process until the block ends."""
    os.chmod(path, 0o444)
    immutable = os.geteuid() == 0
    if immutable:
        if shutil.which("chattr") is None:
            pytest.fail("run as root without chattr: nothing makes the file read-only for root")
        subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        os.chmod(path, 0o644)


@pytest.mark.only_on(
    "sqlite", reason="a file's mode is SQLite's; PostgreSQL's read-only database is tested below"
)
async def test_a_read_only_sqlite_file_is_not_ready_and_the_log_says_why(
    empty_url: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await upgrade_async(empty_url)
    path = Path(empty_url.removeprefix("sqlite+aiosqlite:///"))
    # Checkpointed into the file and closed, as a server stopped cleanly leaves it.
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert not leftover.exists()
    own = settings.model_copy(update={"database_url": empty_url})
    with _read_only_file(path), caplog.at_level(logging.INFO, logger="carebook"):
        async with _http(own) as http:
            live = await http.get("/livez")
            ready = await http.get("/readyz")
            health = await http.get("/healthz")
    assert live.status_code == 200
    for answer in (ready, health):
        assert answer.status_code == 503
        assert answer.json() == {"status": "unavailable", "reason": READ_ONLY}
    logged = [r.getMessage() for r in caplog.records if r.name == "carebook.health"]
    # Once, not once per probe: the cause did not change between /readyz and /healthz.
    assert logged == [f"not ready: {READ_ONLY} (OperationalError)"]


@pytest.mark.only_on(
    "postgresql", reason="PostgreSQL's read-only database; SQLite's file is tested above"
)
async def test_a_read_only_postgres_database_is_not_ready_and_no_password_is_logged(
    empty_url: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await upgrade_async(empty_url)
    name = empty_url.rsplit("/", 1)[1]
    await _admin(empty_url, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    # The server trusts local connections: the password is never checked, only carried.
    password = "pw-that-must-not-be-logged"
    with_password = empty_url.replace("postgres@", f"postgres:{password}@", 1)
    own = settings.model_copy(update={"database_url": with_password})
    with caplog.at_level(logging.DEBUG):
        async with _http(own) as http:
            ready = await http.get("/readyz")
    assert ready.status_code == 503 and ready.json()["reason"] == READ_ONLY
    assert f"not ready: {READ_ONLY}" in caplog.text
    assert password not in caplog.text


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def test_a_database_one_migration_behind_is_not_ready_until_upgraded(
    empty_url: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await upgrade_async(empty_url)
    await asyncio.to_thread(command.downgrade, alembic_config(empty_url), "-1")
    own = settings.model_copy(update={"database_url": empty_url})
    with caplog.at_level(logging.INFO, logger="carebook"):
        async with _http(own) as http:
            behind = await http.get("/readyz")
            await upgrade_async(empty_url)
            current = await http.get("/readyz")
    assert behind.status_code == 503 and behind.json()["reason"] == BEHIND
    assert current.status_code == 200
    logged = [r.getMessage() for r in caplog.records if r.name == "carebook.health"]
    assert logged == [f"not ready: {BEHIND} (no error)", "ready again: the database answers"]


async def test_a_database_never_migrated_is_not_ready(empty_url: str, settings: Settings) -> None:
    own = settings.model_copy(update={"database_url": empty_url})
    async with _http(own) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 503 and answer.json()["reason"] == BEHIND


async def test_an_unreachable_database_is_not_ready_but_the_process_is_live(
    database_url: str, settings: Settings, tmp_path: Path
) -> None:
    own = settings.model_copy(update={"database_url": unreachable_url(database_url, tmp_path)})
    async with _http(own) as http:
        live = await http.get("/livez")
        ready = await http.get("/readyz")
    assert live.status_code == 200
    assert ready.status_code == 503 and ready.json()["reason"] == UNREACHABLE
