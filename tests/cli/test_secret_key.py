"""Production mode refuses to start with the default secret key; elsewhere the server warns.

The secret signs invitations' set-password links: with the default one, a leaked signup token
table yields working links (issue 22 took over an invited patient that way).
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.serving import STARTUP_DEADLINE, wait_until_healthy
from tests.test_serve_e2e import _free_port

from carebook.app import create_app
from carebook.config import Settings
from carebook.startup import UnsafeSettings

REAL_SECRET = secrets.token_urlsafe(32)


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'secret.db'}", **values)


@pytest.mark.parametrize("secret", ["change-me", "", "  "])
def test_create_app_refuses_the_default_or_a_blank_secret_in_production(
    tmp_path: Path, secret: str
) -> None:
    with pytest.raises(UnsafeSettings, match="CAREBOOK_SECRET_KEY is the default"):
        create_app(_settings(tmp_path, production=True, secret_key=secret))


async def test_create_app_serves_in_production_with_a_real_secret(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, production=True, secret_key=REAL_SECRET))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.post("/graphql", json={"query": "{ __typename }"})).status_code == 200


def test_create_app_warns_outside_production(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="carebook"):
        create_app(_settings(tmp_path))
    assert any("CAREBOOK_SECRET_KEY is the default" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="carebook"):
        create_app(_settings(tmp_path, secret_key=REAL_SECRET))
    assert not any("CAREBOOK_SECRET_KEY" in r.getMessage() for r in caplog.records)


def _serve(tmp_path: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAREBOOK_")}
    environment |= {"CAREBOOK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"}
    return subprocess.Popen(
        [sys.executable, "-m", "carebook.cli.main", "serve", "--port", str(port)],
        env=environment | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _run_until_healthy(tmp_path: Path, **env: str) -> str:
    """Start ``carebook serve``, wait until it answers, stop it; what it logged."""
    port = _free_port()
    process = _serve(tmp_path, port, **env)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    return stderr.decode()


def test_serve_refuses_the_default_secret_in_production(tmp_path: Path) -> None:
    process = _serve(tmp_path, _free_port(), CAREBOOK_PRODUCTION="true")
    try:
        _, stderr = process.communicate(timeout=STARTUP_DEADLINE)
    finally:
        process.kill()  # a server that started anyway must not outlive the test
    assert process.returncode == 1
    assert "CAREBOOK_SECRET_KEY is the default" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert not (tmp_path / "serve.db").exists()  # refused before migrating


def test_serve_starts_in_production_with_a_real_secret(tmp_path: Path) -> None:
    log = _run_until_healthy(tmp_path, CAREBOOK_PRODUCTION="true", CAREBOOK_SECRET_KEY=REAL_SECRET)
    assert "CAREBOOK_SECRET_KEY" not in log


def test_serve_warns_about_the_default_secret_outside_production(tmp_path: Path) -> None:
    log = _run_until_healthy(tmp_path)
    assert "WARNING carebook CAREBOOK_SECRET_KEY is the default" in log
