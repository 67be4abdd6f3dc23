"""Root field changeEvents: the caller's organization's change feed."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.change_feed.types import ChangeEvent
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.lookup import id_argument
from carebook.graphql.permissions import IsStaff
from carebook.webhooks import feed

After = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="Only events after this event id (the last one you have)."),
]
PageSize = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many events to return (1 to {feed.MAX_PAGE_SIZE}; "
        f"default {feed.DEFAULT_PAGE_SIZE})."
    ),
]
EventType = Annotated[
    str | None,
    strawberry.argument(description="Only events of this type (webhookEventTypes lists them)."),
]


def _filter(
    info: Info[Context, None], after: strawberry.ID | None, event_type: str | None
) -> feed.FeedFilter:
    if feed.unknown_event_type(event_type):
        raise CodedError("event_type is not an event type Carebook sends", BAD_USER_INPUT)
    # Always the caller's own organization: another organization's events are never listed.
    return feed.FeedFilter(
        organization_id=require_actor(info).organization_id,
        after=id_argument(after, "after") or 0,
        event_type=event_type,
    )


def _size(page_size: int | None) -> int:
    size = feed.DEFAULT_PAGE_SIZE if page_size is None else page_size
    if not 1 <= size <= feed.MAX_PAGE_SIZE:
        raise CodedError(f"page_size must be between 1 and {feed.MAX_PAGE_SIZE}", BAD_USER_INPUT)
    return size


@strawberry.type
class ChangeFeedQueries:
    """The change feed of the caller's organization, for its providers and staff."""

    @strawberry.field(
        description="The organization's changes after a cursor, oldest first: what its "
        "webhooks were sent, to replay them (a Carebook addition). Providers and staff only.",
        permission_classes=[IsStaff],
    )
    async def changeEvents(
        self,
        info: Info[Context, None],
        after: After = None,
        page_size: PageSize = feed.DEFAULT_PAGE_SIZE,
        event_type: EventType = None,
    ) -> list[ChangeEvent] | None:
        wanted, limit = _filter(info, after, event_type), _size(page_size)
        rows = await info.context.read(lambda s: feed.list_events(s, wanted, limit=limit))
        return [ChangeEvent(row=row) for row in rows]
