"""Root mutation redeliverWebhookEvent: queue a past event for the webhooks again."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.change_feed.inputs import RedeliverWebhookEventInput
from carebook.graphql.common import require_actor, write
from carebook.graphql.context import Context
from carebook.graphql.inputs import typed
from carebook.graphql.payloads import Payload, payload
from carebook.graphql.permissions import IsStaff
from carebook.webhooks.redeliver import Redelivery, redeliver

RedeliverParameters = Annotated[
    RedeliverWebhookEventInput | None,
    strawberry.argument(description="Parameters for redeliverWebhookEvent."),
]


@payload("redeliverWebhookEvent")
class RedeliverWebhookEventPayload(
    Payload[list[strawberry.ID]],
    field="webhook_ids",
    about="The webhooks the event was queued for; each gets it like a new event.",
):
    """Where the event will be sent again, or why it will not."""


@strawberry.type
class ChangeFeedMutations:
    """Root mutation field of the change feed."""

    @strawberry.mutation(
        description="Send a past event again, to one webhook or to every enabled webhook "
        "receiving its type (a Carebook addition). Providers and staff only.",
        permission_classes=[IsStaff],
    )
    async def redeliverWebhookEvent(
        self, info: Info[Context, None], input: RedeliverParameters = None
    ) -> RedeliverWebhookEventPayload | None:
        actor, data = require_actor(info), typed(Redelivery, input)
        outcome = await write(info.context, lambda s: redeliver(s, actor=actor, data=data))
        return RedeliverWebhookEventPayload.answer(
            outcome, lambda rows: [strawberry.ID(str(row.webhook_id)) for row in rows]
        )
