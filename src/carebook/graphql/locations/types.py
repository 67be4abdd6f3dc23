"""The Location object."""

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.pagination import Cursor, encode_cursor
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.locations.models import Location as LocationRow
from carebook.locations.validation import DEFAULT_COUNTRY

# User and Location refer to each other (User.locations, Location.user): resolved lazily.


def one_line(row: LocationRow) -> str:
    """``line1, line2, city, ST 12345`` (and the country when it is not the US)."""
    region = " ".join(part for part in (row.state, row.zip) if part)
    parts = [row.line1, row.line2, row.city, region]
    if row.country and row.country != DEFAULT_COUNTRY:
        parts.append(row.country)
    return ", ".join(part for part in parts if part)


@strawberry.type(name="Location", description="A location: an address of a user.")
class Location(DisclosesUsers):
    """Healthie's Location (without place_of_service, see docs/api.md)."""

    row: strawberry.Private[LocationRow]
    # Where the location stands in the list that returned it (None outside lists).
    position: strawberry.Private[int | None] = None

    def disclosed_user_ids(self) -> list[int | None]:
        """An address is its owner's data."""
        return [self.row.user_id]

    @strawberry.field(description="This location's position in the list that returned it.")
    def cursor(self) -> Cursor:
        return Cursor(encode_cursor(self.position or 0))

    @strawberry.field(description="The unique identifier of the location.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The name of the location.")
    def name(self) -> str | None:
        return self.row.name

    @strawberry.field(description="The first line of the address.")
    def line1(self) -> str | None:
        return self.row.line1

    @strawberry.field(description="The second line of the address.")
    def line2(self) -> str | None:
        return self.row.line2

    @strawberry.field(description="The city of the address.")
    def city(self) -> str | None:
        return self.row.city

    @strawberry.field(
        description="The state of the address (the 2 letter USPS abbreviation if in the US)."
    )
    def state(self) -> str | None:
        return self.row.state

    @strawberry.field(
        description="The zip/postal code of the address (12345 or 12345-6789 in the US)."
    )
    def zip(self) -> str | None:
        return self.row.zip

    @strawberry.field(description="The Country Code of the address (ISO 3166-1 alpha-2, e.g. US).")
    def country(self) -> str | None:
        return self.row.country

    @strawberry.field(description="The NPI of the location.")
    def npi(self) -> str | None:
        return self.row.npi

    @strawberry.field(description="The Other ID of the location.")
    def other_id(self) -> str | None:
        return self.row.other_id

    @strawberry.field(description="The Other ID Qualification of the location.")
    def other_id_qual(self) -> str | None:
        return self.row.other_id_qual

    @strawberry.field(description="The place of service id of the location.")
    def place_of_service_id(self) -> str | None:
        return self.row.place_of_service_id

    @strawberry.field(description="The location condensed to a single line.")
    def to_oneline(self) -> str | None:
        return one_line(self.row)

    @strawberry.field(description="The ID of the user who owns the location.")
    def user_id(self) -> str | None:
        return str(self.row.user_id)

    @strawberry.field(description="Owner of this location.")
    @audited
    async def user(self, info: Info[Context, None]) -> LazyUser | None:
        row = await info.context.loaders.user.load(self.row.user_id)
        return user_object(row, info.context.viewer) if row is not None else None
