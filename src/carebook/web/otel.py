"""Tracing of requests (Starlette) and SQL statements (SQLAlchemy) with OpenTelemetry.

Loaded only when tracing is on (carebook.web.tracing). What a span may hold follows the access
log's rule: no query string (a GET's document and variables), no path Carebook does not serve
(a client may put an email in one), and SQL statements with their placeholders, never their
parameters (SQLAlchemy's instrumentation records the statement text alone, and sqlcommenter
stays off).
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.starlette import StarletteInstrumentor
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from starlette.applications import Starlette

from carebook.db.engine import Database
from carebook.web.access_log import OTHER_PATH

_URL_KEYS = ("http.url", "url.full")
_PATH_KEYS = ("http.target", "url.path")
_QUERY_KEYS = ("url.query",)


def instrument(
    app: Starlette, database: Database, *, paths: frozenset[str], tracer_provider: Any
) -> None:
    """Trace ``app``'s requests and the statements of ``database``'s engines."""
    provider = tracer_provider or _global_provider()
    hook = _Scrubber(paths)
    StarletteInstrumentor.instrument_app(app, server_request_hook=hook, tracer_provider=provider)
    engines = [database.engine.sync_engine]
    if database.read_engine.sync_engine is not database.engine.sync_engine:
        engines.append(database.read_engine.sync_engine)
    if database.replica is not None:  # the list reads' (CAREBOOK_DATABASE_READ_URL)
        engines.append(database.replica.sync_engine)
    # The instrumentor is one per process: the last app built (one, outside tests) is traced.
    instrumentor = SQLAlchemyInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses unchanged
    # (tests/web/test_tracing.py checks the spans): without the skip it would trace nothing.
    instrumentor.instrument(
        engines=engines, tracer_provider=provider, enable_commenter=False, skip_dep_check=True
    )


def _global_provider() -> Any:
    """The global tracer provider; when nothing set one, an SDK provider exporting with OTLP
    over HTTP (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME and the other OTEL_* variables)."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    resource = Resource.create({"service.name": "carebook"}).merge(OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


class _Scrubber:
    """The server span's hook: takes the query string and unserved paths out of its URL."""

    def __init__(self, paths: frozenset[str]) -> None:
        self.paths = paths

    def __call__(self, span: Any, scope: dict[str, Any]) -> None:
        recorded = getattr(span, "attributes", None) or {}
        path = str(scope.get("path", ""))
        shown = path if path in self.paths else OTHER_PATH
        for key in _URL_KEYS:
            url = recorded.get(key)
            if isinstance(url, str):
                base = url.split("?", 1)[0]
                if shown != path and base.endswith(path):
                    base = f"{base[: len(base) - len(path)]}/{shown}"
                span.set_attribute(key, base)
        for key in _PATH_KEYS:
            if key in recorded:
                span.set_attribute(key, shown)
        for key in _QUERY_KEYS:
            if key in recorded:
                span.set_attribute(key, "")
