"""The ChangeEvent object: one entry of the change feed."""

import json

import strawberry
from strawberry.types import Info

from carebook.events.models import Event
from carebook.events.payload import body_bytes
from carebook.graphql.context import Context
from carebook.graphql.limits.rows import capped
from carebook.times import render


@strawberry.type(
    name="ChangeEvent",
    description="One change of one record of the organization, as a webhook announces it "
    "(a Carebook addition: the change feed).",
)
class ChangeEvent:
    """A row of the events table."""

    row: strawberry.Private[Event]

    @strawberry.field(
        description="The event's id, increasing over time: pass the last one you have as "
        "`after` to read the events that followed."
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The event's type, as webhooks name it (patient.updated).")
    def event_type(self) -> str:
        return self.row.event_type

    @strawberry.field(description="The id of the record that changed.")
    def resource_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.resource_id))

    @strawberry.field(description="The GraphQL type of the record that changed (User).")
    def resource_id_type(self) -> str:
        return self.row.resource_type

    @strawberry.field(description="The fields an update changed; empty for created and deleted.")
    # Names of one type's fields, read from the event's own row: far below the cap, which keeps
    # the rule that every nested list is bounded.
    @capped("ChangeEvent.changed_fields", "an event names at most its type's fields")
    async def changed_fields(self, info: Info[Context, None]) -> list[str]:
        fields: list[str] = json.loads(self.row.changed_fields or "[]")
        return fields

    @strawberry.field(description="When the change was written (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="The JSON body a webhook receives for this event, byte for byte.")
    def payload(self) -> str:
        return body_bytes(self.row).decode()
