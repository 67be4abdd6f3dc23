"""GET /metrics: off by default, behind a bearer token, Prometheus text with bounded labels.

The instruments are process-wide (a test process builds many apps), so the tests compare
values before and after their own requests.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from tests.support.world import World

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.startup import UnsafeSettings

TOKEN = "scrape-token-for-tests-0123456789"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
SIGN_IN = """mutation SignMeIn($e: String, $p: String) {
  signIn(input: {email: $e, password: $p}) { token messages { message } } }"""
ME = "query Mine { currentUser { id } }"


@contextlib.asynccontextmanager
async def _http(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        yield http


def _on(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics": True, "metrics_token": TOKEN})


async def _scrape(http: httpx.AsyncClient) -> tuple[str, dict[tuple[str, tuple[Any, ...]], float]]:
    """The text of /metrics, and every sample parsed by prometheus-client's own parser."""
    answer = await http.get("/metrics", headers=SCRAPER)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }
    return answer.text, samples


def _value(samples: dict[tuple[str, tuple[Any, ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_are_off_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics", headers=SCRAPER)).status_code == 404


async def test_metrics_need_the_token(settings: Settings, database: Database) -> None:
    async with _http(_on(settings), database) as http:
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        basic = await http.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status_code == 401
        assert (await http.get("/metrics", headers=SCRAPER)).status_code == 200


def test_metrics_without_a_token_refuse_to_start(settings: Settings, database: Database) -> None:
    with pytest.raises(UnsafeSettings, match="CAREBOOK_METRICS_TOKEN"):
        create_app(settings.model_copy(update={"metrics": True}), database)


async def test_requests_are_counted_by_root_field_and_outcome(
    settings: Settings, database: Database, world: World
) -> None:
    key = {"Authorization": f"Basic {world.a.provider.api_key}", "AuthorizationSource": "API"}
    async with _http(_on(settings), database) as http:
        _, before = await _scrape(http)
        for _ in range(2):
            answer = await http.post("/graphql", json={"query": ME}, headers=key)
            assert answer.json()["data"]["currentUser"]["id"]
        wrong = {"e": "provider.a@example.com", "p": "not the password"}
        answer = await http.post("/graphql", json={"query": SIGN_IN, "variables": wrong})
        assert answer.json()["data"]["signIn"]["messages"]
        answer = await http.post("/graphql", json={"query": "query Bad { no_such_field }"})
        assert answer.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        both = "query Two { currentUser { id } again: currentUser { id } tagsCount }"
        answer = await http.post("/graphql", json={"query": both}, headers=key)
        assert not answer.json().get("errors"), answer.json()
        _, after = await _scrape(http)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    total = "carebook_graphql_requests_total"
    assert moved(total, operation="currentUser", outcome="ok") == 2
    assert moved(total, operation="signIn", outcome="messages") == 1
    assert moved(total, operation="other", outcome="GRAPHQL_VALIDATION_FAILED") == 1
    assert moved(total, operation="multiple", outcome="ok") == 1
    # The latency histogram is labelled by the same operation.
    latency = "carebook_graphql_request_duration_seconds"
    assert moved(f"{latency}_count", operation="currentUser") == 2
    assert moved(f"{latency}_bucket", operation="signIn", le="+Inf") == 1
    assert moved(f"{latency}_sum", operation="currentUser") > 0


async def test_no_client_text_in_the_labels(settings: Settings, database: Database) -> None:
    email = "secret.patient.4711@example.com"
    documents = [
        (SIGN_IN, "SignMeIn"),
        # The operation's name, aliases and literal arguments are the client's text too.
        (f"query {email.split('@')[0].replace('.', '_')} {{ x: signIn }}", None),
        ('mutation { signIn(input: {email: "' + email + '", password: "p"}) { token } }', None),
    ]
    async with _http(_on(settings), database) as http:
        for query, name in documents:
            body = {"query": query, "variables": {"e": email, "p": "pw"}, "operationName": name}
            await http.post("/graphql", json=body)
        text, samples = await _scrape(http)
    assert "secret" not in text
    assert "example.com" not in text
    labels = {v for (_, pairs) in samples for (_, v) in pairs}
    assert not any("@" in v for v in labels)


async def test_gauges_are_listed(settings: Settings, database: Database) -> None:
    async with _http(_on(settings), database) as http:
        await http.post("/graphql", json={"query": ME})
        _, samples = await _scrape(http)
    assert ("carebook_db_pool_size", (("pool", "write"),)) in samples
    assert ("carebook_db_pool_checked_out", (("pool", "write"),)) in samples
    assert ("carebook_audit_queue_depth", ()) in samples
    for status in ("pending", "sending", "failed"):
        assert _value(samples, "carebook_email_outbox_messages", status=status) >= 0
        assert ("carebook_webhook_deliveries", (("status", status),)) in samples


async def test_pool_gauge_follows_checked_out_connections(
    settings: Settings, database: Database
) -> None:
    key = ("carebook_db_pool_checked_out", (("pool", "write"),))
    async with _http(_on(settings), database) as http:
        _, before = await _scrape(http)
        async with database.engine.connect() as held:
            await held.execute(text("SELECT 1"))
            _, during = await _scrape(http)
        _, after = await _scrape(http)
    assert during[key] == before[key] + 1
    assert after[key] == before[key]
