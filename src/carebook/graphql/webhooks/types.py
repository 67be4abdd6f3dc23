"""The Webhook, WebhookEvent and SentWebhook objects, with Healthie's fields.

A webhook's ``signature_secret`` is shown once: in the payload of the mutation that made it
(createWebhook, expireWebhookSignature), null everywhere else (docs/webhooks.md).
"""

import strawberry
from strawberry.types import Info

from carebook.events.models import SentWebhook as SentWebhookRow
from carebook.events.models import Webhook as WebhookRow
from carebook.events.models import WebhookSubscription
from carebook.graphql.context import Context
from carebook.graphql.iso_scalar import ISO8601DateTime
from carebook.graphql.limits.rows import capped
from carebook.graphql.pagination import Cursor, encode_cursor
from carebook.times import render, render_iso, render_iso_or_none
from carebook.webhooks.queries import WebhookRecord


def _iso(value: str | None) -> ISO8601DateTime | None:
    return None if value is None else ISO8601DateTime(value)


@strawberry.type(name="Webhook", description="A configured webhook")
class Webhook:
    """Healthie's Webhook: where an organization receives events, and which."""

    row: strawberry.Private[WebhookRow]
    subscriptions: strawberry.Private[list[WebhookSubscription]]
    # The signing secret, only in the answer of the write that made it.
    secret: strawberry.Private[str | None] = None
    # Where the webhook stands in the list that returned it (None outside lists).
    position: strawberry.Private[int | None] = None

    @classmethod
    def of(cls, record: WebhookRecord, position: int | None = None) -> "Webhook":
        """The webhook of a read or a write (a write's may carry the new secret)."""
        return cls(
            row=record.row,
            subscriptions=record.subscriptions,
            secret=record.secret,
            position=position,
        )

    @strawberry.field(description="Pagination cursor")
    def cursor(self) -> Cursor:
        return Cursor(encode_cursor(self.position or 0))

    @strawberry.field(
        description="The type of webhook: an event type it receives (its webhook_events add more)"
    )
    def event_type(self) -> str | None:
        return self.row.event_type

    @strawberry.field(description="The unique identifier of the webhook")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="Whether the webhook is enabled or not")
    def is_enabled(self) -> bool:
        return self.row.is_enabled

    @strawberry.field(description="Whether the webhook should retry on failure")
    def should_retry(self) -> bool:
        return self.row.should_retry

    @strawberry.field(
        description="The secret key used to sign the webhook: shown once, in the answer of "
        "createWebhook and expireWebhookSignature; null everywhere else"
    )
    def signature_secret(self) -> str | None:
        return self.secret

    @strawberry.field(description="The URL that the webhook will be sent to")
    def url(self) -> str | None:
        return self.row.url

    @strawberry.field(
        description="The date and time that the customer was warned about the webhook failing"
    )
    def warned_at(self, info: Info[Context, None]) -> ISO8601DateTime | None:
        return _iso(render_iso_or_none(self.row.warned_at, info.context.zone))

    @strawberry.field(description="The events that the webhook is subscribed to")
    # At most one per event type of the catalog, so far below the cap: the cap keeps the rule.
    @capped("Webhook.webhook_events", "a webhook has at most one per event type")
    async def webhook_events(self, info: Info[Context, None]) -> "list[WebhookEvent] | None":
        return [WebhookEvent(row=row, parent=self) for row in self.subscriptions]


@strawberry.type(name="WebhookEvent", description="The events that the webhook is subscribed to")
class WebhookEvent:
    """Healthie's WebhookEvent: one event type a webhook receives."""

    row: strawberry.Private[WebhookSubscription]
    parent: strawberry.Private[Webhook]

    @strawberry.field(description="The date and time that the webhook event was created")
    def created_at(self, info: Info[Context, None]) -> ISO8601DateTime:
        return ISO8601DateTime(render_iso(self.row.created_at, info.context.zone))

    @strawberry.field(description="The type of webhook event")
    def event_type(self) -> str:
        return self.row.event_type

    @strawberry.field(description="The date and time that the webhook event first failed")
    def first_failed_at(self, info: Info[Context, None]) -> ISO8601DateTime | None:
        return _iso(render_iso_or_none(self.row.first_failed_at, info.context.zone))

    @strawberry.field(description="The unique identifier of the webhook event")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The date and time that the webhook event last failed")
    def last_failed_at(self, info: Info[Context, None]) -> ISO8601DateTime | None:
        return _iso(render_iso_or_none(self.row.last_failed_at, info.context.zone))

    @strawberry.field(description="The number of times the webhook event has been retried")
    def retry_count(self) -> int:
        return self.row.retry_count

    @strawberry.field(description="The date and time that the webhook event was last updated")
    def updated_at(self, info: Info[Context, None]) -> ISO8601DateTime:
        return ISO8601DateTime(render_iso(self.row.updated_at, info.context.zone))

    @strawberry.field(description="The webhook that the event is associated with")
    def webhook(self) -> Webhook:
        return self.parent


@strawberry.type(name="SentWebhook", description="The record of a sent webhook")
class SentWebhook:
    """Healthie's SentWebhook: one attempt to send an event to a webhook."""

    row: strawberry.Private[SentWebhookRow]
    position: strawberry.Private[int | None] = None

    @strawberry.field(
        description="The datetime that the webhook was sent (2023-06-05 14:10:00 +0200)"
    )
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="Pagination cursor")
    def cursor(self) -> Cursor:
        return Cursor(encode_cursor(self.position or 0))

    @strawberry.field(description="The type of webhook event that was sent")
    def event_type(self) -> str | None:
        return self.row.event_type

    @strawberry.field(
        description="The HTTP status the receiver answered (e.g. 200); null when no answer came"
    )
    def http_response_status(self) -> str | None:
        return self.row.http_response_status

    @strawberry.field(description="The unique identifier of the sent webhook")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The id of the resource the sent webhook related to")
    def resource_id(self) -> strawberry.ID | None:
        value = self.row.resource_id
        return None if value is None else strawberry.ID(str(value))

    @strawberry.field(description="The type of resource the sent webhook related to")
    def resource_id_type(self) -> str | None:
        return self.row.resource_id_type

    @strawberry.field(description="The URL that the webhook was sent to")
    def url(self) -> str | None:
        return self.row.url

    @strawberry.field(
        description="The configured webhook that was sent; null once that webhook is deleted"
    )
    def webhook_id(self) -> strawberry.ID | None:
        value = self.row.webhook_id
        return None if value is None else strawberry.ID(str(value))
