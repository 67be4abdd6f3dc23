"""Root query fields of locations: location, locations, locationsCount."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.locations.types import Location
from carebook.graphql.lookup import id_argument, visible_row
from carebook.graphql.pagination import Cursor, page_of
from carebook.graphql.permissions import IsAuthenticated
from carebook.locations import queries

HAS_NAME = "When true, only locations with a name."
KEYWORDS = "Search terms separated by spaces; each must appear in the name or the address."
SERVICE_FACILITIES = (
    "Pass in true to get service facilities for CMS 1500. Accepted; Carebook has no CMS 1500 "
    "billing, so it changes nothing."
)


def _owner_id(value: str | None, actor_id: int) -> int:
    """The user whose locations are read: ``user_id`` or the caller."""
    user_id = id_argument(value, "user_id")
    return actor_id if user_id is None else user_id


@strawberry.type
class LocationQueries:
    """Reading locations. Anyone signed in reads the locations of the users they may see."""

    @strawberry.field(
        description="Fetch a location by id. A location the caller may not see answers null.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def location(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The ID of the location.")
        ] = None,
    ) -> Location | None:
        row = await visible_row(info, id, queries.get_visible_location)
        return Location(row=row) if row is not None else None

    @strawberry.field(
        description="Get locations for a given user (or current user), oldest first. Offset "
        "(offset + page_size) and cursor (after) pagination work with should_paginate: true.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def locations(
        self,
        info: Info[Context, None],
        after: Annotated[
            Cursor | None, strawberry.argument(description="Cursor to fetch results after.")
        ] = None,
        has_name: Annotated[bool | None, strawberry.argument(description=HAS_NAME)] = None,
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
        offset: Annotated[
            int | None, strawberry.argument(description="How many locations to skip.")
        ] = 0,
        page_size: Annotated[
            int | None,
            strawberry.argument(description="The number of locations to return (Max 100)."),
        ] = 10,
        should_paginate: Annotated[
            bool | None,
            strawberry.argument(description="When true, page_size locations are returned."),
        ] = False,
        user_id: Annotated[
            str | None,
            strawberry.argument(
                description="The user whose locations to get; the caller's by default."
            ),
        ] = None,
        has_service_facilities: Annotated[
            bool | None, strawberry.argument(description=SERVICE_FACILITIES)
        ] = False,
    ) -> list[Location] | None:
        actor = require_actor(info)
        page = page_of(offset=offset, page_size=page_size, paginate=should_paginate, after=after)
        owner_id = _owner_id(user_id, actor.user_id)
        rows = await info.context.read(
            lambda s: queries.list_locations(
                s,
                actor,
                user_id=owner_id,
                keywords=keywords,
                has_name=bool(has_name),
                offset=page.offset,
                limit=page.limit(info.context.settings),
            )
        )
        page.check_whole(len(rows), info.context.settings, what="locations")
        return [Location(row=row, position=position) for position, row in page.positioned(rows)]

    @strawberry.field(
        description="A count of available locations for the current user.",
        permission_classes=[IsAuthenticated],
    )
    async def locationsCount(
        self,
        info: Info[Context, None],
        has_name: Annotated[bool | None, strawberry.argument(description=HAS_NAME)] = False,
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
        has_service_facilities: Annotated[
            bool | None, strawberry.argument(description=SERVICE_FACILITIES)
        ] = False,
    ) -> int | None:
        actor = require_actor(info)
        return await info.context.read(
            lambda s: queries.count_locations(
                s, actor, user_id=actor.user_id, keywords=keywords, has_name=bool(has_name)
            )
        )
