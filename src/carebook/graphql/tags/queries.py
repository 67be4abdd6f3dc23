"""Root query field of tags: ``tags``."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.limits.rows import check_rows
from carebook.graphql.lookup import id_argument
from carebook.graphql.permissions import IsAuthenticated
from carebook.graphql.tags.inputs import TagOrderKeys
from carebook.graphql.tags.types import Tag
from carebook.tags import queries


def _order(order_by: TagOrderKeys | None, sort_by: str | None) -> queries.TagOrder:
    if order_by is not None:
        return queries.TagOrder(order_by.value)
    try:
        return queries.TagOrder((sort_by or "name_asc").strip().lower())
    except ValueError:
        known = ", ".join(order.value for order in queries.TagOrder)
        raise CodedError(
            f"Unknown sort '{(sort_by or '')[:40]}'; use one of {known}", BAD_USER_INPUT
        ) from None


@strawberry.type
class TagQueries:
    """Listing tags."""

    @strawberry.field(
        description="A collection of tags related to current patient/provider/organization: "
        "providers and staff get every tag of their organization, a patient the tags applied "
        "to themselves.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def tags(
        self,
        info: Info[Context, None],
        applied_to_providers: Annotated[
            bool | None,
            strawberry.argument(
                description="When true, only returns tags applied to providers in the organization."
            ),
        ] = None,
        ids: Annotated[
            list[strawberry.ID | None] | None,
            strawberry.argument(description="Only the tags with these IDs."),
        ] = None,
        order_by: Annotated[
            TagOrderKeys | None,
            strawberry.argument(
                description="Sort order (NAME_ASC when neither this nor sort_by is given); "
                "takes precedence over sort_by."
            ),
        ] = None,
        user_id: Annotated[
            str | None,
            strawberry.argument(description="Only the tags applied to this user."),
        ] = None,
        sort_by: Annotated[
            str | None,
            strawberry.argument(
                description="Sort order as a lower-case string (e.g. name_desc, "
                "active_users_desc), a Carebook addition matching the seed's other lists."
            ),
        ] = None,
    ) -> list[Tag] | None:
        actor = require_actor(info)
        order = _order(order_by, sort_by)
        tag_ids = None
        if ids is not None:
            parsed = (id_argument(value, "ids") for value in ids)
            tag_ids = [tag_id for tag_id in parsed if tag_id is not None]
        carrier_id = id_argument(user_id, "user_id")
        rows = await info.context.read(
            lambda s: queries.list_tags(
                s,
                actor,
                ids=tag_ids,
                user_id=carrier_id,
                applied_to_providers=bool(applied_to_providers),
                order=order,
            )
        )
        # Healthie's tags takes no page size: the whole list is bounded like a whole page.
        check_rows(
            len(rows),
            info.context.settings.unpaginated_list_max_rows,
            field="tags",
            instead="narrow it with ids or user_id",
        )
        # Tags listed on one person are that person's data (a patient's own list is theirs).
        applied_to = carrier_id if carrier_id is not None or not actor.is_patient else actor.user_id
        return [Tag(row=row, applied_to=applied_to) for row in rows]
