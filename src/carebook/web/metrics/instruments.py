"""The process's instruments, in a registry of Carebook's own.

Under ``carebook serve --workers N`` the server sets PROMETHEUS_MULTIPROC_DIR before the workers
start; prometheus-client then keeps every value in a file per process and a scrape of any worker
sums them (gauges: over live processes). Whether that mode is on is fixed when prometheus-client
is first imported, so it is read once here, at the same moment.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# Not the default registry: its process and platform collectors do not work across processes,
# and a test process builds many apps (the instruments are process-wide, so tests read deltas).
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "carebook_graphql_requests",
    "GraphQL requests by root field (operation) and outcome: ok, messages, or an error code.",
    ["operation", "outcome"],
    registry=REGISTRY,
)
# From about a cached single-row read to past a slow export.
LATENCY = Histogram(
    "carebook_graphql_request_duration_seconds",
    "Time from a GraphQL request's arrival to its result, by root field (operation).",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
POOL_CHECKED_OUT = Gauge(
    "carebook_db_pool_checked_out",
    "Database connections checked out of SQLAlchemy's pools, summed over live processes.",
    ["pool"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
POOL_SIZE = Gauge(
    "carebook_db_pool_size",
    "Connections SQLAlchemy's pools keep (PostgreSQL: CAREBOOK_DATABASE_POOL_SIZE per process).",
    ["pool"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
AUDIT_QUEUE = Gauge(
    "carebook_audit_queue_depth",
    "Read events waiting for the audit writer's next batch (as of each process's last request).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
