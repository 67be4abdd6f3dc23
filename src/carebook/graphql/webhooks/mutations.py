"""Webhook mutations: createWebhook, updateWebhook, deleteWebhook, expireWebhookSignature."""

import dataclasses
from typing import Annotated, TypeVar

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.writes import audited_write
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.inputs import typed, value_of
from carebook.graphql.payloads import Payload, payload
from carebook.graphql.permissions import IsStaff
from carebook.graphql.webhooks.inputs import (
    CreateWebhookInput,
    DeleteWebhookInput,
    ExpireWebhookSignatureInput,
    UpdateWebhookInput,
    subscriptions,
)
from carebook.graphql.webhooks.types import Webhook
from carebook.webhooks import service
from carebook.webhooks.inputs import NewWebhook, WebhookChanges, WebhookFields, WebhookRules

F = TypeVar("F", bound=WebhookFields)

CreateWebhookParameters = Annotated[
    CreateWebhookInput | None, strawberry.argument(description="Parameters for createWebhook")
]
UpdateWebhookParameters = Annotated[
    UpdateWebhookInput | None, strawberry.argument(description="Parameters for updateWebhook")
]
DeleteWebhookParameters = Annotated[
    DeleteWebhookInput | None, strawberry.argument(description="Parameters for deleteWebhook")
]
ExpireWebhookSignatureParameters = Annotated[
    ExpireWebhookSignatureInput | None,
    strawberry.argument(description="Parameters for expireWebhookSignature"),
]


@payload("createWebhook")
class CreateWebhookPayload(
    Payload[Webhook], field="webhook", about="The created webhook, with its signing secret."
):
    """The new webhook, or why none was created."""


@payload("updateWebhook")
class UpdateWebhookPayload(Payload[Webhook], field="webhook", about="The updated webhook."):
    """The updated webhook, or why nothing changed."""


@payload("deleteWebhook")
class DeleteWebhookPayload(Payload[Webhook], field="webhook", about="The deleted webhook."):
    """The deleted webhook (as it was), or why nothing changed."""


@payload("expireWebhookSignature")
class ExpireWebhookSignaturePayload(
    Payload[Webhook], field="webhook", about="The webhook, with its new signing secret."
):
    """The webhook with its new secret, or why nothing changed."""


def _fields(kind: type[F], data: object | None) -> F:
    """The service input, with webhook_events converted from the GraphQL list."""
    fields = typed(kind, data)
    return dataclasses.replace(
        fields, webhook_events=subscriptions(getattr(data, "webhook_events", None))
    )


@strawberry.type
class WebhookMutations:
    """Root mutation fields of webhooks, for the organization's providers and staff."""

    @strawberry.mutation(
        description="Create Webhook: it receives its event_type and the types of its "
        "webhook_events. The answer carries the signing secret, shown only this once.",
        permission_classes=[IsStaff],
    )
    async def createWebhook(
        self, info: Info[Context, None], input: CreateWebhookParameters = None
    ) -> CreateWebhookPayload | None:
        actor, data = require_actor(info), _fields(NewWebhook, input)
        rules = WebhookRules.of(info.context.settings)
        outcome = await audited_write(
            info,
            lambda s: service.create_webhook(s, actor=actor, fields=data, rules=rules),
            action="update",
            attempted=(),  # a webhook is no patient record (docs/webhooks.md)
        )
        return CreateWebhookPayload.answer(outcome, Webhook.of)

    @strawberry.mutation(
        description="Update Webhook; fields left out keep their value.",
        permission_classes=[IsStaff],
    )
    async def updateWebhook(
        self, info: Info[Context, None], input: UpdateWebhookParameters = None
    ) -> UpdateWebhookPayload | None:
        actor, data = require_actor(info), _fields(WebhookChanges, input)
        rules = WebhookRules.of(info.context.settings)
        outcome = await audited_write(
            info,
            lambda s: service.update_webhook(s, actor=actor, fields=data, rules=rules),
            action="update",
            attempted=(),
        )
        return UpdateWebhookPayload.answer(outcome, Webhook.of)

    @strawberry.mutation(
        description="Destroy Webhook. Its log of sent webhooks stays, without its id.",
        permission_classes=[IsStaff],
    )
    async def deleteWebhook(
        self, info: Info[Context, None], input: DeleteWebhookParameters = None
    ) -> DeleteWebhookPayload | None:
        actor, webhook_id = require_actor(info), value_of(input, "id")
        outcome = await audited_write(
            info,
            lambda s: service.delete_webhook(s, actor=actor, webhook_id=webhook_id),
            action="update",
            attempted=(),
        )
        return DeleteWebhookPayload.answer(outcome, Webhook.of)

    @strawberry.mutation(
        description="Expires the webhook signature: a new signing secret replaces the old one "
        "at once, and the answer shows it this once.",
        permission_classes=[IsStaff],
    )
    async def expireWebhookSignature(
        self, info: Info[Context, None], input: ExpireWebhookSignatureParameters = None
    ) -> ExpireWebhookSignaturePayload | None:
        actor, webhook_id = require_actor(info), value_of(input, "id")
        rules = WebhookRules.of(info.context.settings)
        outcome = await audited_write(
            info,
            lambda s: service.expire_signature(s, actor=actor, webhook_id=webhook_id, rules=rules),
            action="update",
            attempted=(),
        )
        return ExpireWebhookSignaturePayload.answer(outcome, Webhook.of)
