"""createRequestedFormCompletion, deleteRequestedFormCompletion, updateRecurringForm,
deleteRecurringForm."""

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.forms import service
from carebook.forms.inputs import FormRequest, RecurringFormChanges
from carebook.forms.models import RecurringForm as RecurringRow
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import audited_write
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.forms.inputs import (
    CreateRequestedFormInput,
    DeleteRequestedFormInput,
    DestroyRecurringFormInput,
    UpdateRecurringFormInput,
)
from carebook.graphql.forms.types import RecurringForm, RequestedFormCompletion, load_recurring
from carebook.graphql.inputs import typed, value_of
from carebook.graphql.payloads import Payload, payload
from carebook.graphql.permissions import IsStaff

DeleteParameters = Annotated[
    DeleteRequestedFormInput | None,
    strawberry.argument(description="Parameters for deleteRequestedForm"),
]
UpdateRecurringParameters = Annotated[
    UpdateRecurringFormInput | None,
    strawberry.argument(description="Parameters for updateRecurringForm"),
]
DestroyRecurringParameters = Annotated[
    DestroyRecurringFormInput | None,
    strawberry.argument(description="Parameters for destroyRecurringForm"),
]


# Healthie names this payload after its input (createRequestedForm), not after the mutation.
@payload("createRequestedForm")
class CreateRequestedFormCompletionPayload(
    Payload[RequestedFormCompletion], field="requestedFormCompletion", about="The created request."
):
    """The new request (the first, when several patients were named)."""


@payload("deleteRequestedForm")
class DeleteRequestedFormPayload(
    Payload[RequestedFormCompletion], field="requestedFormCompletion", about="The deleted request."
):
    """The withdrawn request (as it was), or why nothing changed."""


@payload("updateRecurringForm")
class UpdateRecurringFormPayload(
    Payload[RecurringForm], field="recurringForm", about="The recurring form."
):
    """The changed recurring form, or why nothing changed."""


@payload("destroyRecurringForm")
class DestroyRecurringFormPayload(
    Payload[RecurringForm], field="recurringForm", about="The ended recurring form."
):
    """The ended recurring form (as it was), or why nothing changed."""


async def _recurring_object(session: AsyncSession, row: RecurringRow) -> RecurringForm:
    return (await load_recurring(session, [row]))[0]


@strawberry.type
class FormMutations:
    """Root mutation fields of form requests."""

    @strawberry.mutation(
        description="Ask one or more patients to fill in a form (a form completion request), "
        "once or on a schedule (is_recurring).",
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

    @strawberry.mutation(description="Destroy a requested form", permission_classes=[IsStaff])
    @audited
    async def deleteRequestedFormCompletion(
        self, info: Info[Context, None], input: DeleteParameters = None
    ) -> DeleteRequestedFormPayload | None:
        actor = require_actor(info)
        outcome = await audited_write(
            info,
            lambda s: service.delete_request(
                s,
                actor=actor,
                raw_id=value_of(input, "id"),
                recurring_form_id=value_of(input, "recurringFormId"),
            ),
            action="update",
        )
        row = outcome.value
        return DeleteRequestedFormPayload(
            value=None if row is None else RequestedFormCompletion(row=row),
            messages=outcome.messages,
        )

    @strawberry.mutation(
        description="Change a recurring form request: its schedule, its recipients, or pause it.",
        permission_classes=[IsStaff],
    )
    @audited
    async def updateRecurringForm(
        self, info: Info[Context, None], input: UpdateRecurringParameters = None
    ) -> UpdateRecurringFormPayload | None:
        actor = require_actor(info)

        async def work(session: AsyncSession) -> RecurringForm:
            changes = typed(RecurringFormChanges, input)
            row = await service.update_recurring(session, actor=actor, changes=changes)
            return await _recurring_object(session, row)

        outcome = await audited_write(info, work, action="update")
        return UpdateRecurringFormPayload(value=outcome.value, messages=outcome.messages)

    @strawberry.mutation(
        description="Delete recurring form request (the requests already sent stay)",
        permission_classes=[IsStaff],
    )
    @audited
    async def deleteRecurringForm(
        self, info: Info[Context, None], input: DestroyRecurringParameters = None
    ) -> DestroyRecurringFormPayload | None:
        actor = require_actor(info)

        async def work(session: AsyncSession) -> RecurringForm:
            row, recipients = await service.delete_recurring(
                session,
                actor=actor,
                raw_id=value_of(input, "id"),
                connectable_id=value_of(input, "connectable_id"),
                connectable_type=value_of(input, "connectable_type"),
            )
            return RecurringForm(row=row, recipients=recipients)

        outcome = await audited_write(info, work, action="update")
        return DestroyRecurringFormPayload(value=outcome.value, messages=outcome.messages)
