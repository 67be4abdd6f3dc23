"""createRequestedFormCompletion."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from carebook.forms import service
from carebook.forms.inputs import FormRequest
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import audited_write
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.forms.inputs import CreateRequestedFormInput
from carebook.graphql.forms.types import RequestedFormCompletion
from carebook.graphql.inputs import typed
from carebook.graphql.payloads import Payload, payload
from carebook.graphql.permissions import IsStaff


# Healthie names this payload after its input (createRequestedForm), not after the mutation.
@payload("createRequestedForm")
class CreateRequestedFormCompletionPayload(
    Payload[RequestedFormCompletion], field="requestedFormCompletion", about="The created request."
):
    """The new request (the first, when several patients were named)."""


@strawberry.type
class FormMutations:
    """Root mutation fields of form requests."""

    @strawberry.mutation(
        description="Ask one or more patients to fill in a form (a form completion request).",
        permission_classes=[IsStaff],
    )
    @audited
    async def createRequestedFormCompletion(
        self, info: Info[Context, None], input: CreateRequestedFormInput | None = None
    ) -> CreateRequestedFormCompletionPayload | None:
        actor = require_actor(info)
        outcome = await audited_write(
            info,
            lambda s: service.create_requests(s, actor=actor, fields=typed(FormRequest, input)),
            action="update",
        )
        rows = outcome.value or []
        return CreateRequestedFormCompletionPayload(
            value=RequestedFormCompletion(row=rows[0]) if rows else None,
            messages=outcome.messages,
        )
