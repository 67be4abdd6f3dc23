"""Location mutations: createLocation, updateLocation, deleteLocation."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import attempted_ids, audited_write
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.inputs import typed, value_of
from carebook.graphql.locations.inputs import (
    CreateLocationInput,
    DeleteLocationInput,
    UpdateLocationInput,
)
from carebook.graphql.locations.types import Location
from carebook.graphql.payloads import Payload, payload
from carebook.graphql.permissions import IsAuthenticated
from carebook.locations import service
from carebook.locations.inputs import LocationChanges, NewLocation

CreateLocationParameters = Annotated[
    CreateLocationInput | None, strawberry.argument(description="Parameters for createLocation.")
]
UpdateLocationParameters = Annotated[
    UpdateLocationInput | None, strawberry.argument(description="Parameters for updateLocation.")
]
DeleteLocationParameters = Annotated[
    DeleteLocationInput | None, strawberry.argument(description="Parameters for deleteLocation.")
]


@payload("createLocation")
class CreateLocationPayload(Payload[Location], field="location", about="The created location."):
    """The new location, or why none was created."""


@payload("updateLocation")
class UpdateLocationPayload(Payload[Location], field="location", about="The location."):
    """The updated location, or why nothing changed."""


@payload("deleteLocation")
class DeleteLocationPayload(Payload[Location], field="location", about="The deleted location."):
    """The deleted location (as it was), or why nothing changed."""


@strawberry.type
class LocationMutations:
    """Root mutation fields of locations: a patient manages their own, providers and staff
    their own and those of their organization's patients."""

    @strawberry.mutation(
        description="Create a location of user_id (default: the caller). In the US (the "
        "default country) the state must be a state code and the zip a ZIP code.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def createLocation(
        self, info: Info[Context, None], input: CreateLocationParameters = None
    ) -> CreateLocationPayload | None:
        actor, data = require_actor(info), typed(NewLocation, input)
        outcome = await audited_write(
            info,
            lambda s: service.create_location(s, actor=actor, fields=data),
            action="update",
            attempted=attempted_ids([data.user_id]),
        )
        return CreateLocationPayload.answer(outcome, lambda row: Location(row=row))

    @strawberry.mutation(
        description="Update a location; fields left out keep their value.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def updateLocation(
        self, info: Info[Context, None], input: UpdateLocationParameters = None
    ) -> UpdateLocationPayload | None:
        actor, data = require_actor(info), typed(LocationChanges, input)
        outcome = await audited_write(
            info,
            lambda s: service.update_location(s, actor=actor, fields=data),
            action="update",
        )
        return UpdateLocationPayload.answer(outcome, lambda row: Location(row=row))

    @strawberry.mutation(description="Destroy a Location.", permission_classes=[IsAuthenticated])
    @audited
    async def deleteLocation(
        self, info: Info[Context, None], input: DeleteLocationParameters = None
    ) -> DeleteLocationPayload | None:
        actor, location_id = require_actor(info), value_of(input, "id")
        outcome = await audited_write(
            info,
            lambda s: service.delete_location(s, actor=actor, location_id=location_id),
            action="update",
        )
        return DeleteLocationPayload.answer(outcome, lambda row: Location(row=row))
