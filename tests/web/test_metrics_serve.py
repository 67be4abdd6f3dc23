"""``carebook serve --workers 2`` with metrics: any worker's /metrics sums every worker's counts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.support.serving import wait_until_healthy

from carebook.db.engine import Database

TOKEN = "scrape-token-for-serve-tests-42"
QUERY = "query Ping { __typename }"
# Requests sent on fresh connections before giving up on seeing both workers answer (the kernel
# hands connections to whichever worker accepts first; a few dozen always reached both here).
MOST_REQUESTS = 400


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_workers(
    database_url: str, database: Database, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """A real ``carebook serve --workers 2`` with metrics on; its URL and metrics directory."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    # Left by an earlier run: must not be counted (serve empties the directory first).
    (shared / "counter_999999.db").write_bytes(b"stale")
    port = _free_port()
    env = {
        **os.environ,
        "CAREBOOK_DATABASE_URL": database_url,
        "CAREBOOK_METRICS": "true",
        "CAREBOOK_METRICS_TOKEN": TOKEN,
        "CAREBOOK_ACCESS_LOG": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "carebook.cli.main", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url, shared
    finally:
        process.terminate()
        process.wait(timeout=30)


def _counted(url: str) -> float:
    answer = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name == "carebook_graphql_requests_total"
        and sample.labels == {"operation": "__typename", "outcome": "ok"}
    )


def _workers_that_counted(shared: Path) -> set[str]:
    return {p.name for p in shared.glob("counter_*.db")}


def test_metrics_are_summed_over_the_workers(two_workers: tuple[str, Path]) -> None:
    url, shared = two_workers
    assert not (shared / "counter_999999.db").exists()
    sent = 0
    while len(_workers_that_counted(shared)) < 2:
        assert sent < MOST_REQUESTS, "one worker answered every request"
        # A new connection each time, so either worker may take it.
        answer = httpx.post(f"{url}/graphql", json={"query": QUERY}, timeout=10)
        assert answer.status_code == 200
        sent += 1
    # Whichever worker answers the scrape, it reports every worker's requests.
    for _ in range(6):
        assert _counted(url) == sent


def test_serve_refuses_metrics_without_a_token(database_url: str) -> None:
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url, "CAREBOOK_METRICS": "true"}
    env.pop("CAREBOOK_METRICS_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "carebook.cli.main", "serve", "--port", "9", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "CAREBOOK_METRICS_TOKEN" in done.stderr
