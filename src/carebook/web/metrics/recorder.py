"""Counting GraphQL requests: the view names a request's labels, then records its result."""

from strawberry.types import ExecutionResult

from carebook.audit.writer import AuditWriter
from carebook.web.metrics.instruments import AUDIT_QUEUE, LATENCY, REQUESTS
from carebook.web.metrics.operations import operation_label, outcome_label


class GraphQLMetrics:
    """The request instruments of one app, with its schema's root field names."""

    def __init__(self, root_fields: frozenset[str], audit_writer: AuditWriter) -> None:
        self.root_fields = root_fields
        self._audit_writer = audit_writer

    def operation(self, document: str | None, operation_name: str | None) -> str:
        """The operation label of a request (operations.operation_label)."""
        return operation_label(document, operation_name, self.root_fields)

    def record(self, operation: str, result: ExecutionResult, seconds: float) -> None:
        """Count one answered request and its time."""
        REQUESTS.labels(operation=operation, outcome=outcome_label(result)).inc()
        LATENCY.labels(operation=operation).observe(seconds)
        # Kept fresh by traffic: a scrape reads every worker's last value.
        AUDIT_QUEUE.set(self._audit_writer.queued)
