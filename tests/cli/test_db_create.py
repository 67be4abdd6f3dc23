"""``carebook db upgrade`` creates a missing PostgreSQL database (no createdb needed)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from carebook.db.create import create_statement


def _upgrade(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", "db", "upgrade"],
        env={**os.environ, "CAREBOOK_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.only_on("postgresql", reason="SQLite creates its file by itself")
async def test_upgrade_creates_a_missing_postgresql_database(database_url: str) -> None:
    # Capitals and a hyphen: the name only works quoted.
    name = f"Carebook-Fresh-{uuid.uuid4().hex[:8]}"
    server = database_url.rpartition("/")[0]
    admin_dsn = server.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"
    try:
        first = _upgrade(f"{server}/{name}")
        assert first.returncode == 0, first.stderr
        assert "created the database" in first.stdout
        connection = await asyncpg.connect(
            server.replace("postgresql+asyncpg://", "postgresql://") + f"/{name}"
        )
        try:
            assert await connection.fetchval("SELECT count(*) FROM alembic_version") == 1
        finally:
            await connection.close()
        second = _upgrade(f"{server}/{name}")
        assert second.returncode == 0, second.stderr
        assert "created the database" not in second.stdout
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def test_the_created_name_is_quoted() -> None:
    assert create_statement('a"; DROP DATABASE x; --') == (
        'CREATE DATABASE "a""; DROP DATABASE x; --"'
    )
