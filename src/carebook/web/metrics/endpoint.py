"""GET /metrics: Prometheus' text format, for a scraper holding CAREBOOK_METRICS_TOKEN.

Without the route (metrics off) the path answers 404 like any unknown one; with it, a request
without the token, or with another, answers 401 (compared in constant time).
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from carebook.audit.writer import AuditWriter
from carebook.db.engine import Database
from carebook.web.metrics.backlog import Backlog, BacklogCollector
from carebook.web.metrics.instruments import AUDIT_QUEUE, MULTIPROCESS, REGISTRY


class MetricsEndpoint:
    """The /metrics route of one app."""

    def __init__(self, *, token: str, database: Database, audit_writer: AuditWriter) -> None:
        self._token = token.strip().encode()
        self._database = database
        self._audit_writer = audit_writer
        self._backlog = Backlog()

    async def handle(self, request: Request) -> Response:
        if not self._authorized(request):
            return Response(
                "metrics need the bearer token\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                media_type="text/plain",
            )
        AUDIT_QUEUE.set(self._audit_writer.queued)
        await self._backlog.refresh(self._database)
        body = generate_latest(_scrape_registry(BacklogCollector(self._backlog)))
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    def _authorized(self, request: Request) -> bool:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self._token:
            return False
        return hmac.compare_digest(given.strip().encode(), self._token)


def _scrape_registry(backlog: Collector) -> CollectorRegistry:
    """This process's instruments (every worker's, in multiprocess mode) and the backlog."""
    registry = CollectorRegistry(auto_describe=True)
    if MULTIPROCESS:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # registers itself
    else:
        registry.register(REGISTRY)
    registry.register(backlog)
    return registry
