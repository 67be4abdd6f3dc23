"""notifications: the caller's own notifications."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.lookup import id_argument
from carebook.graphql.pagination import Cursor, page_of
from carebook.graphql.permissions import IsAuthenticated
from carebook.graphql.user_notifications.types import Notification, NotificationOrderKeys
from carebook.user_notifications import queries


@strawberry.type
class NotificationQueries:
    """Reading the caller's notifications."""

    @strawberry.field(
        description="The caller's notifications with their seen state, newest first.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def notifications(
        self,
        info: Info[Context, None],
        after: Annotated[
            Cursor | None, strawberry.argument(description="Cursor to fetch results after.")
        ] = None,
        offset: Annotated[int | None, strawberry.argument(description="How many to skip.")] = 0,
        other_party_id: Annotated[
            str | None, strawberry.argument(description="Only those about this patient.")
        ] = None,
        page_size: Annotated[
            int | None, strawberry.argument(description="Page size (max 100).")
        ] = 10,
        read_status: Annotated[
            bool | None, strawberry.argument(description="Same as seen_status in Carebook.")
        ] = None,
        seen_status: Annotated[
            bool | None, strawberry.argument(description="Only seen (true) or unseen (false).")
        ] = None,
        order_by: Annotated[
            NotificationOrderKeys | None, strawberry.argument(description="Sort order.")
        ] = NotificationOrderKeys.CREATED_AT_DESC,
        types: Annotated[
            list[str | None] | None,
            strawberry.argument(description="Only these notification_type values."),
        ] = None,
    ) -> list[Notification] | None:
        actor = require_actor(info)
        page = page_of(offset=offset, page_size=page_size, after=after)
        party = id_argument(other_party_id, "other_party_id")
        seen = seen_status if seen_status is not None else read_status
        kinds = [t for t in types or [] if t]
        rows = await info.context.read(
            lambda s: queries.list_notifications(
                s,
                actor,
                seen_status=seen,
                other_party_id=party,
                types=kinds or None,
                descending=order_by != NotificationOrderKeys.CREATED_AT_ASC,
                offset=page.offset,
                limit=page.limit(info.context.settings),
            )
        )
        return [Notification(row=row) for row in rows]
