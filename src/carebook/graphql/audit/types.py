"""The AuditEvent object."""

import strawberry
from strawberry.types import Info

from carebook.audit.models import AuditEvent as AuditEventRow
from carebook.graphql.context import Context
from carebook.times import render


def _id(value: int | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(
    name="AuditEvent",
    description="One read or write of one patient record: who, what, which operation, when, "
    "from where, and whether it was allowed (a Carebook addition).",
)
class AuditEvent:
    """A row of the append-only audit trail."""

    row: strawberry.Private[AuditEventRow]

    @strawberry.field(description="The unique identifier of the event (increases over time).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="When it happened (2023-06-05 14:10:00 +0200).")
    def occurred_at(self, info: Info[Context, None]) -> str:
        return render(self.row.occurred_at, info.context.zone)

    @strawberry.field(description="The organization of the caller.")
    def organization_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.organization_id))

    @strawberry.field(description="The user who called; null for an anonymous caller.")
    def actor_id(self) -> strawberry.ID | None:
        return _id(self.row.actor_user_id)

    @strawberry.field(description="The caller's role: provider, staff or patient; null if none.")
    def actor_role(self) -> str | None:
        return self.row.actor_role

    @strawberry.field(description="How the caller authenticated: api_key or session.")
    def credential(self) -> str | None:
        return self.row.credential

    @strawberry.field(description="The GraphQL root field called, e.g. user or updateClient.")
    def operation(self) -> str:
        return self.row.operation

    @strawberry.field(description="What was done: read, create, update, archive, ...")
    def action(self) -> str:
        return self.row.action

    @strawberry.field(description="The kind of record: User (a patient).")
    def record_type(self) -> str:
        return self.row.record_type

    @strawberry.field(
        description="The record's id; null for a refused create. A refused read of another "
        "organization's id keeps the id that was asked for."
    )
    def record_id(self) -> strawberry.ID | None:
        return _id(self.row.record_id)

    @strawberry.field(description="False when the record was not shown or the write refused.")
    def allowed(self) -> bool:
        return self.row.allowed

    @strawberry.field(description="The client's network address, as the server saw it.")
    def client_address(self) -> str | None:
        return self.row.client_address

    @strawberry.field(description="The request's id (X-Request-ID when the client sent one).")
    def request_id(self) -> str:
        return self.row.request_id
