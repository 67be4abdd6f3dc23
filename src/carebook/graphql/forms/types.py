"""The RequestedFormCompletion object."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from carebook.forms.models import RequestedFormCompletion as RequestRow
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.times import render


@strawberry.type(
    name="RequestedFormCompletion",
    description="A form a provider asked a patient to fill in (a form completion request).",
)
class RequestedFormCompletion(DisclosesUsers):
    """Healthie's RequestedFormCompletion, minimal: who, which form, and its status."""

    row: strawberry.Private[RequestRow]

    def disclosed_user_ids(self) -> list[int | None]:
        """A form request is data of the patient asked to fill it in."""
        return [self.row.recipient_id]

    @strawberry.field(description="The unique identifier of the request.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="Where the request stands: 'Not Started' or 'Completed'.")
    def status(self) -> str | None:
        return self.row.status

    @strawberry.field(description="ID of the requested form template.")
    def custom_module_form_id(self) -> str | None:  # Healthie types these ids String
        return self.row.custom_module_form_id

    @strawberry.field(description="What is requested: 'CustomModuleForm' or 'Questionnaire'.")
    def item_type(self) -> str:
        return self.row.item_type

    @strawberry.field(description="ID of the patient asked to fill in the form.")
    def recipient_id(self) -> str | None:
        return str(self.row.recipient_id)

    @strawberry.field(description="ID of the provider or staff member who asked.")
    def sender_id(self) -> str | None:
        return None if self.row.sender_id is None else str(self.row.sender_id)

    @strawberry.field(description="When the request was made (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str | None:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="When the request was last changed (2023-06-05 14:10:00 +0200).")
    def updated_at(self, info: Info[Context, None]) -> str | None:
        return render(self.row.updated_at, info.context.zone)

    @strawberry.field(description="The patient asked to fill in the form.")
    @audited
    async def recipient(self, info: Info[Context, None]) -> LazyUser | None:
        row = await info.context.loaders.user.load(self.row.recipient_id)
        return user_object(row, info.context.viewer) if row else None
