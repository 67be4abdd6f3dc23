"""CAREBOOK_OTEL: requests and SQL statements traced, without variables, parameters or URLs'
query strings in any span (the carebook[otel] extra, installed by the dev extra)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database

EMAIL = "secret.patient.4711@example.com"
SIGN_IN = """mutation SignMeIn($e: String, $p: String) {
  signIn(input: {email: $e, password: $p}) { token messages { message } } }"""


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    yield spans
    # The SQLAlchemy instrumentor is one per process: later apps must start untraced.
    SQLAlchemyInstrumentor().uninstrument()


@pytest.fixture
async def traced(
    settings: Settings, database: Database, exporter: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings.model_copy(update={"otel": True}), database, tracer_provider=provider)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        yield http


def _attributes(spans: tuple[ReadableSpan, ...]) -> list[tuple[str, str]]:
    return [(key, str(value)) for s in spans for key, value in (s.attributes or {}).items()]


async def test_requests_and_statements_are_traced_without_values(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    variables = {"e": EMAIL, "p": "the password 123"}
    answer = await traced.post("/graphql", json={"query": SIGN_IN, "variables": variables})
    assert answer.json()["data"]["signIn"]["messages"]
    # A GET carries its document and variables in the query string.
    params = {"query": "query Mine { currentUser { id } }", "variables": json.dumps(variables)}
    assert (await traced.get("/graphql", params=params)).status_code == 200
    assert (await traced.get(f"/people/{EMAIL}")).status_code == 404

    spans = exporter.get_finished_spans()
    names = {s.name for s in spans}
    assert "POST /graphql" in names
    assert "GET /graphql" in names
    statements = [v for k, v in _attributes(spans) if k == "db.statement"]
    assert any("SELECT" in s for s in statements), "|".join(sorted(names))
    everything = " ".join(f"{k}={v} {s.name}" for s in spans for k, v in _attributes((s,)))
    for secret in (EMAIL, "secret.patient", "the password", "4711", "currentUser"):
        assert secret not in everything, secret
    urls = [v for k, v in _attributes(spans) if k in ("http.url", "url.full")]
    assert urls and not any("?" in u for u in urls)
    assert any(u.endswith("/(other)") for u in urls), urls
