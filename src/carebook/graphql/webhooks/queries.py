"""Root query fields of webhooks: webhook, webhooks, webhooksCount, webhookEventTypes,
sentWebhooks, sentWebhooksCount. For the organization's providers and staff."""

from datetime import timedelta
from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.db.base import utcnow
from carebook.events.catalog import EVENT_TYPES
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.lookup import visible_row
from carebook.graphql.pagination import Cursor, page_of
from carebook.graphql.permissions import IsStaff
from carebook.graphql.webhooks.inputs import SentWebhookOrderKeys, WebhookOrderKeys
from carebook.graphql.webhooks.types import SentWebhook, Webhook
from carebook.webhooks import queries
from carebook.webhooks.queries import ListOrder

AFTER = "Cursor to fetch results after"
KEYWORDS = "Search terms separated by spaces; each must appear in the URL or an event type."
SENT_KEYWORDS = (
    "Search terms separated by spaces; each must appear in the URL, the event type or the "
    "resource type, or equal the resource id."
)
OFFSET = "How many to skip."
PAGE_SIZE = "How many to return (at most 100)."
RETAINED = "SentWebhook records are available for 180 days (CAREBOOK_SENT_WEBHOOK_RETENTION_DAYS)."

After = Annotated[Cursor | None, strawberry.argument(description=AFTER)]
Offset = Annotated[int | None, strawberry.argument(description=OFFSET)]
PageSize = Annotated[int | None, strawberry.argument(description=PAGE_SIZE)]
# Healthie's defaults for both lists: pages of 20, newest first.
DEFAULT_PAGE_SIZE = 20


@strawberry.type
class WebhookQueries:
    """Reading the organization's webhooks and the log of what was sent to them."""

    @strawberry.field(
        description="Fetch a webhook by id (a Carebook addition): null for an unknown id or "
        "another organization's.",
        permission_classes=[IsStaff],
    )
    async def webhook(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The ID of the webhook.")
        ] = None,
    ) -> Webhook | None:
        record = await visible_row(info, id, queries.load_webhook)
        return Webhook.of(record) if record is not None else None

    @strawberry.field(
        description="Fetch paginated Webhooks collection, newest first unless order_by.",
        permission_classes=[IsStaff],
    )
    async def webhooks(
        self,
        info: Info[Context, None],
        after: After = None,
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
        offset: Offset = 0,
        order_by: Annotated[
            WebhookOrderKeys | None, strawberry.argument(description="Sort order.")
        ] = WebhookOrderKeys.CREATED_AT_DESC,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> list[Webhook] | None:
        actor = require_actor(info)
        page = page_of(
            offset=offset, page_size=page_size, after=after, default_size=DEFAULT_PAGE_SIZE
        )
        order = ListOrder(order_by.value) if order_by else ListOrder.CREATED_AT_DESC
        records = await info.context.read(
            lambda s: queries.list_webhooks(
                s,
                actor,
                keywords=keywords,
                order=order,
                offset=page.offset,
                limit=page.limit(info.context.settings),
            )
        )
        return [Webhook.of(record, position) for position, record in page.positioned(records)]

    @strawberry.field(description="Number of Webhooks", permission_classes=[IsStaff])
    async def webhooksCount(
        self,
        info: Info[Context, None],
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
    ) -> int | None:
        actor = require_actor(info)
        return await info.context.read(
            lambda s: queries.count_webhooks(s, actor, keywords=keywords)
        )

    @strawberry.field(
        description="Fetch possible Webhook event types (docs/webhooks.md lists what fires each).",
        permission_classes=[IsStaff],
    )
    def webhookEventTypes(self) -> list[str] | None:
        return list(EVENT_TYPES)

    @strawberry.field(
        description=f"Fetch paginated SentWebhooks collection, newest first unless order_by. "
        f"{RETAINED}",
        permission_classes=[IsStaff],
    )
    async def sentWebhooks(
        self,
        info: Info[Context, None],
        after: After = None,
        keywords: Annotated[str | None, strawberry.argument(description=SENT_KEYWORDS)] = None,
        offset: Offset = 0,
        order_by: Annotated[
            SentWebhookOrderKeys | None, strawberry.argument(description="Sort order.")
        ] = SentWebhookOrderKeys.CREATED_AT_DESC,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
    ) -> list[SentWebhook] | None:
        actor, settings = require_actor(info), info.context.settings
        page = page_of(
            offset=offset, page_size=page_size, after=after, default_size=DEFAULT_PAGE_SIZE
        )
        order = ListOrder(order_by.value) if order_by else ListOrder.CREATED_AT_DESC
        since = utcnow() - timedelta(days=settings.sent_webhook_retention_days)
        rows = await info.context.read(
            lambda s: queries.list_sent_webhooks(
                s,
                actor,
                keywords=keywords,
                since=since,
                order=order,
                offset=page.offset,
                limit=page.limit(settings),
            )
        )
        return [SentWebhook(row=row, position=position) for position, row in page.positioned(rows)]

    @strawberry.field(
        description=f"Number of SentWebhooks. {RETAINED}", permission_classes=[IsStaff]
    )
    async def sentWebhooksCount(
        self,
        info: Info[Context, None],
        keywords: Annotated[str | None, strawberry.argument(description=SENT_KEYWORDS)] = None,
    ) -> int | None:
        actor, settings = require_actor(info), info.context.settings
        since = utcnow() - timedelta(days=settings.sent_webhook_retention_days)
        return await info.context.read(
            lambda s: queries.count_sent_webhooks(s, actor, keywords=keywords, since=since)
        )
