"""Root query fields of tags: ``tags``, ``tagsCount``, ``appliedTag`` and ``appliedTags``."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.iso_scalar import ISO8601DateTime, parse_iso_datetime
from carebook.graphql.limits.rows import check_rows
from carebook.graphql.lookup import id_argument, id_or_none
from carebook.graphql.permissions import IsAuthenticated
from carebook.graphql.tags.inputs import AppliedTagOrderKeys, TagOrderKeys
from carebook.graphql.tags.types import AppliedTag, Tag
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


def _tag_ids(ids: list[strawberry.ID | None] | None) -> list[int] | None:
    if ids is None:
        return None
    parsed = (id_argument(value, "ids") for value in ids)
    return [tag_id for tag_id in parsed if tag_id is not None]


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
        tag_ids = _tag_ids(ids)
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

    @strawberry.field(
        description="Number of tags: how many tags would list for the same arguments.",
        permission_classes=[IsAuthenticated],
    )
    async def tagsCount(
        self,
        info: Info[Context, None],
        applied_to_providers: Annotated[
            bool | None,
            strawberry.argument(
                description="When true, only counts tags applied to providers in the organization."
            ),
        ] = None,
        ids: Annotated[
            list[strawberry.ID | None] | None,
            strawberry.argument(description="Only the tags with these IDs."),
        ] = None,
        user_id: Annotated[
            str | None,
            strawberry.argument(description="Only the tags applied to this user."),
        ] = None,
    ) -> int | None:
        # A count discloses no one's data (a patient counts only the tags on themselves).
        actor = require_actor(info)
        tag_ids, carrier_id = _tag_ids(ids), id_argument(user_id, "user_id")
        return await info.context.read(
            lambda s: queries.count_tags(
                s,
                actor,
                ids=tag_ids,
                user_id=carrier_id,
                applied_to_providers=bool(applied_to_providers),
            )
        )

    @strawberry.field(
        description="An applied tag to a user, by its id: null for an unknown id or one the "
        "caller may not see, and for a removed one unless include_deleted is true.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def appliedTag(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The applied tag's id.")
        ] = None,
        include_deleted: Annotated[
            bool | None,
            strawberry.argument(description="When true, a removed applied tag is returned too."),
        ] = None,
    ) -> AppliedTag | None:
        actor, applied_id = require_actor(info), id_or_none(id)
        if applied_id is None:
            return None
        found = await info.context.read(
            lambda s: queries.get_visible_applied_tag(
                s, actor, applied_id, include_deleted=bool(include_deleted)
            )
        )
        return AppliedTag(row=found[0], tag_row=found[1]) if found is not None else None

    @strawberry.field(
        description="Applied tags to a users: the tags currently applied to the users the "
        "caller may see (a patient: themselves), narrowed by the arguments.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def appliedTags(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the tags applied to this user."),
        ] = None,
        tag_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The tag ID")
        ] = None,
        order_by: Annotated[
            AppliedTagOrderKeys | None,
            strawberry.argument(description="Sort order (UNSORTED answers in id order)."),
        ] = AppliedTagOrderKeys.UNSORTED,
        updated_after: Annotated[
            ISO8601DateTime | None,
            strawberry.argument(
                description="When passed in, only applied tags updated after the specified "
                "datetime are returned."
            ),
        ] = None,
        updated_before: Annotated[
            ISO8601DateTime | None,
            strawberry.argument(
                description="When passed in, only applied tags updated before the specified "
                "datetime are returned."
            ),
        ] = None,
    ) -> list[AppliedTag] | None:
        actor, settings = require_actor(info), info.context.settings
        filters = queries.AppliedTagFilter(
            user_id=id_argument(id, "id"),
            tag_id=id_argument(tag_id, "tag_id"),
            updated_after=parse_iso_datetime(updated_after, "updated_after", info.context.zone),
            updated_before=parse_iso_datetime(updated_before, "updated_before", info.context.zone),
            order=queries.AppliedTagOrder[(order_by or AppliedTagOrderKeys.UNSORTED).name],
        )
        cap = settings.unpaginated_list_max_rows
        rows = await info.context.read(
            lambda s: queries.list_applied_tags(s, actor, filters, limit=cap + 1)
        )
        # Healthie's appliedTags takes no page size: bounded like a whole page.
        check_rows(
            len(rows),
            cap,
            field="appliedTags",
            instead="narrow it with id, tag_id or updated_after",
        )
        return [AppliedTag(row=applied, tag_row=tag) for applied, tag in rows]
