"""``carebook serve`` with ``CAREBOOK_LOG_FORMAT=json``: every line of the real process (uvicorn's
too) is JSON, and its access log has one line per request (uvicorn's own is off)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from carebook.db.engine import Database
from carebook.logs import ACCESS_LOGGER
from tests.support.serving import wait_until_healthy


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_and_call(database_url: str, log: Path, **settings: str) -> list[httpx.Response]:
    """Start a server with ``settings`` (CAREBOOK_ names) logging to ``log``, send the test's
    requests, stop it."""
    port = _free_port()
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url, **settings}
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "carebook.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            wait_until_healthy(url, process)
            return [
                httpx.get(f"{url}/livez", headers={"X-Request-ID": "serve-live"}),
                httpx.post(
                    f"{url}/graphql",
                    json={"query": "query Ping { __typename }", "variables": {"e": "x@y.z"}},
                    headers={"X-Request-ID": "serve-graphql"},
                ),
                httpx.get(f"{url}/readyz", headers={"X-Request-ID": "serve-ready"}),
            ]
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_serve_logs_json_lines_with_one_access_line_per_request(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    answers = _serve_and_call(
        database_url, log, CAREBOOK_LOG_FORMAT="json", CAREBOOK_LOG_LEVEL="info"
    )
    assert [a.status_code for a in answers] == [200, 200, 200]
    lines: list[dict[str, Any]] = [json.loads(x) for x in log.read_text().splitlines() if x]
    loggers = {line["logger"] for line in lines}
    assert "uvicorn.error" in loggers  # uvicorn's own lines in the same format
    assert "uvicorn.access" not in loggers  # replaced by Carebook's
    access = [line for line in lines if line["logger"] == ACCESS_LOGGER]
    ids = [line["request_id"] for line in access]
    assert len(ids) == len(set(ids))  # one line per request (the health polls included)
    mine = {line["request_id"]: line for line in access if line["request_id"].startswith("serve-")}
    assert sorted(mine) == ["serve-graphql", "serve-live", "serve-ready"]
    assert (mine["serve-graphql"]["operation"], mine["serve-graphql"]["status"]) == ("Ping", 200)
    assert [a.headers["x-request-id"] for a in answers] == [
        "serve-live",
        "serve-graphql",
        "serve-ready",
    ]
    assert "x@y.z" not in log.read_text()


TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) ([\w.]+) ")


def test_serve_logs_text_at_the_level_set_and_keeps_the_access_log(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    _serve_and_call(database_url, log, CAREBOOK_LOG_FORMAT="text", CAREBOOK_LOG_LEVEL="WARNING")
    lines = log.read_text().splitlines()
    parsed = [TEXT_LINE.match(line) for line in lines]
    assert all(parsed), [line for line, match in zip(lines, parsed, strict=True) if not match]
    levels = {(m.group(1), m.group(2)) for m in parsed if m}
    # uvicorn's INFO lines ("Application startup complete.") are below the level set...
    assert not [line for line in lines if "uvicorn" in line]
    # ...and the access log is not.
    mine = [line for line in lines if " carebook.access serve-" in line]
    assert len(mine) == 3 and ("INFO", ACCESS_LOGGER) in levels
