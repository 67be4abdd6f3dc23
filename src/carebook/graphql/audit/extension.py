"""Hands a request's read events to the writer when its operation ends."""

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from carebook.audit.writer import AuditUnavailable
from carebook.graphql.context import Context
from carebook.graphql.errors import INTERNAL

UNAVAILABLE = "The audit trail could not be written; no data was returned"


class AuditFlush(SchemaExtension):
    """Waits (by default) until the request's read events are committed, then lets it answer.

    When they cannot be stored, the response carries no data: patient data is not handed out
    without its audit trail.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        audit = getattr(context, "audit", None)
        if audit is None:
            return
        if audit.pending and isinstance(context, Context):
            # The answer is computed: give the connection back before waiting. Requests waiting
            # for the writer must not hold the connections the writer needs (pool deadlock).
            await context.end_read_transaction()
        try:
            await audit.flush()
        except AuditUnavailable:
            audit.disclosed.clear()  # the answer holds no data now: a replay discloses nothing
            # Changed in place: Strawberry answers with the result object it already holds.
            result = self.execution_context.result
            if result is not None:
                result.data = None
                result.errors = [GraphQLError(UNAVAILABLE, extensions={"code": INTERNAL})]
