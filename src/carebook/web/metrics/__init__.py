"""Prometheus metrics on GET /metrics (CAREBOOK_METRICS; docs/production.md, "Metrics").

``instruments``: the process's counters, histograms and gauges; ``operations``: the bounded
labels of a GraphQL request; ``pool``: database pool use; ``backlog``: the database-wide queue
counts read at scrape time; ``endpoint``: the route, its token and the text it answers.

None of them is imported unless metrics are on: prometheus-client is start-up time and memory
every worker would pay for nothing (docs/performance.md, "Start-up").
"""

METRICS_PATH = "/metrics"
