"""CAREBOOK_DATABASE_READ_URL's settings: what is refused, and how (no database needed, so these
run on SQLite-only runs too; the replica itself: tests/db/test_read_replica.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from pydantic import ValidationError
from tests.conftest import POSTGRES_URL

from carebook.cli.common import load_settings
from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.startup import UnsafeSettings, check_read_url

REPLICA_URL = "postgresql+asyncpg://postgres:secret@127.0.0.1:9/x"


async def test_without_a_replica_list_sessions_are_read_sessions(settings: Settings) -> None:
    database = create_database(settings.model_copy(update={"database_read_url": None}))
    try:
        assert database.list_sessions is database.read_sessions
    finally:
        await database.dispose()


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


def test_a_command_given_a_sqlite_url_with_a_read_url_set_ends_with_the_message(
    tmp_path: Path,
) -> None:
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'carebook.db'}"
    env = {
        **os.environ,
        "CAREBOOK_DATABASE_URL": POSTGRES_URL,
        "CAREBOOK_DATABASE_READ_URL": REPLICA_URL,
    }
    command = [sys.executable, "-m", "carebook.cli.main", "events", "--organization", "1"]
    command += ["--database-url", sqlite]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "error: CAREBOOK_DATABASE_READ_URL needs PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr
    assert "secret" not in done.stderr
    assert not (tmp_path / "carebook.db").exists()


def test_the_read_urls_error_does_not_show_the_other_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAREBOOK_SECRET_KEY", "a-very-private-key")
    monkeypatch.setenv("CAREBOOK_SMTP_URL", "smtp://mail:smtp-password@mail.example:25")
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="sqlite+aiosqlite:///./x.db", database_read_url=REPLICA_URL)
    message = str(refused.value)
    assert "CAREBOOK_DATABASE_READ_URL needs PostgreSQL" in message
    assert "a-very-private-key" not in message
    assert "smtp-password" not in message
    assert "secret" not in message  # the read URL's own password
