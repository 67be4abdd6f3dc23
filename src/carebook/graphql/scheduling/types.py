"""AppointmentType, Offering, Appointment and BillingItem objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.limits.rows import capped
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.scheduling.details import read_metadata
from carebook.scheduling.models import Appointment as AppointmentRow
from carebook.scheduling.models import AppointmentLocation as AppointmentLocationRow
from carebook.scheduling.models import AppointmentType as AppointmentTypeRow
from carebook.scheduling.models import BillingItem as BillingItemRow
from carebook.scheduling.models import Offering as OfferingRow
from carebook.times import render
from carebook.users.models import User as UserRow
from carebook.users.scoping import follows_links

if TYPE_CHECKING:
    from carebook.graphql.users.types import User


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _user(row: UserRow, info: Info[Context, None]) -> User:
    return user_object(row, info.context.viewer)


@strawberry.type(
    name="AppointmentType",
    description="An object containing information about the type of appointment.",
)
class AppointmentType:
    """Healthie's AppointmentType (name, length, pricing)."""

    row: strawberry.Private[AppointmentTypeRow]

    @strawberry.field(description="The unique identifier of the appointment type.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The name of the appointment type.")
    def name(self) -> str | None:
        return self.row.name

    @strawberry.field(description="The length of the appointment type (in minutes).")
    def length(self) -> int | None:
        return self.row.length

    @strawberry.field(description="The pricing for this appointment type, e.g. 120.00.")
    def pricing(self) -> str | None:
        return _money(self.row.price_cents)

    @strawberry.field(description="The status of whether the client can self-book this type.")
    def clients_can_book(self) -> bool:
        return self.row.clients_can_book

    @strawberry.field(description="The creator of the appointment type.")
    def user_id(self) -> int | None:
        return self.row.user_id

    @strawberry.field(
        description="The date the Appointment Type was created (2023-06-05 14:10:00 +0200)."
    )
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(
        description="The date the Appointment Type was updated (2023-06-05 14:10:00 +0200)."
    )
    def updated_at(self, info: Info[Context, None]) -> str:
        return render(self.row.updated_at, info.context.zone)


@strawberry.type(
    name="AppointmentLocation", description="A place where the organization holds appointments."
)
class AppointmentLocation:
    """Healthie's AppointmentLocation (no rooms in Carebook)."""

    row: strawberry.Private[AppointmentLocationRow]

    @strawberry.field(description="The unique identifier of the appointment location.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The location (in plain text).")
    def location(self) -> str | None:
        return self.row.location

    @strawberry.field(description="Whether the client can select this location or not.")
    def clients_can_book(self) -> bool:
        return self.row.clients_can_book

    @strawberry.field(description="Whether the location has any rooms (never, in Carebook).")
    def has_rooms(self) -> bool | None:
        return False


@strawberry.type(
    name="AppointmentSetting",
    description="The organization's appointment settings: in Carebook, its locations.",
)
class AppointmentSetting:
    """Healthie's AppointmentSetting, the part Carebook has: the appointment locations."""

    organization_id: strawberry.Private[int]
    locations: strawberry.Private[list[AppointmentLocationRow]]

    @strawberry.field(description="The unique identifier (the organization's).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.organization_id))

    @strawberry.field(description="The organization's appointment locations, oldest first.")
    @capped(
        "AppointmentSetting.appointment_locations",
        "page through appointmentLocations(...) instead",
    )
    async def appointment_locations(
        self, info: Info[Context, None]
    ) -> list[AppointmentLocation] | None:
        return [AppointmentLocation(row=row) for row in self.locations]


@strawberry.type(name="Offering", description="A package or service that a client can buy.")
class Offering:
    """Healthie's Offering (name, price, billing frequency)."""

    row: strawberry.Private[OfferingRow]

    @strawberry.field(description="The unique identifier of the offering.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The name of the offering.")
    def name(self) -> str | None:
        return self.row.name

    @strawberry.field(description="The description of the offering.")
    def description(self) -> str | None:
        return self.row.description

    @strawberry.field(description="The price of the offering, e.g. 99.50.")
    def price(self) -> str | None:
        return _money(self.row.price_cents)

    @strawberry.field(description="How often it is billed; Carebook records one-time purchases.")
    def billing_frequency(self) -> str | None:
        return self.row.billing_frequency

    @strawberry.field(description="When the offering was created (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)


@strawberry.type(name="Appointment", description="An appointment of a patient with a provider.")
class Appointment(DisclosesUsers):
    """Healthie's Appointment. Times are written in the reader's time zone (carebook/times.py)."""

    row: strawberry.Private[AppointmentRow]

    def disclosed_user_ids(self) -> list[int | None]:
        """An appointment (its time, reason, provider) is its patient's data."""
        return [self.row.patient_id]

    @strawberry.field(description="The unique identifier of the appointment.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The start of the appointment (2023-06-05 14:10:00 +0200).")
    def date(self, info: Info[Context, None]) -> str | None:
        return render(self.row.start, info.context.zone)

    @strawberry.field(description="The start of the appointment (2023-06-05 14:10:00 +0200).")
    def start(self, info: Info[Context, None]) -> str | None:
        return render(self.row.start, info.context.zone)

    @strawberry.field(description="The end of the appointment (2023-06-05 14:10:00 +0200).")
    def end(self, info: Info[Context, None]) -> str | None:
        return render(self.row.end, info.context.zone)

    @strawberry.field(description="The length of the appointment (in minutes).")
    def length(self) -> int | None:
        return int((self.row.end - self.row.start).total_seconds() // 60)

    @strawberry.field(description="IANA time zone the appointment was booked in (Carebook).")
    def timezone(self) -> str | None:
        return self.row.timezone

    @strawberry.field(
        description="The abbreviation of the time zone date is written in, at the start, e.g. EST."
    )
    def timezone_abbr(self, info: Info[Context, None]) -> str | None:
        # The reader's zone, as date's offset: the two always agree.
        return self.row.start.astimezone(info.context.zone).tzname()

    @strawberry.field(description="The status of the appointment, e.g. Cancelled.")
    def pm_status(self) -> str | None:
        return self.row.pm_status

    @strawberry.field(description="How the appointment is held, e.g. Video Call.")
    def contact_type(self) -> str | None:
        return self.row.contact_type

    @strawberry.field(description="The reason the client gave when booking.")
    def reason(self) -> str | None:
        return self.row.reason

    @strawberry.field(description="The ID of the appointment type.")
    def appointment_type_id(self) -> int | None:  # Healthie types it Int, not ID
        return self.row.appointment_type_id

    @strawberry.field(description="The appointment type.")
    async def appointment_type(self, info: Info[Context, None]) -> AppointmentType | None:
        row = await info.context.loaders.appointment_type.load(self.row.appointment_type_id)
        return AppointmentType(row=row) if row else None

    @strawberry.field(description="The provider the appointment is with.")
    @audited
    async def provider(self, info: Info[Context, None]) -> LazyUser | None:
        if not follows_links(info.context.viewer):
            return None  # an anonymous checkout's answer names no provider (follows_links)
        row = await info.context.loaders.user.load(self.row.provider_id)
        return _user(row, info) if row else None

    @strawberry.field(description="The patient.")
    @audited
    async def user(self, info: Info[Context, None]) -> LazyUser | None:
        row = await info.context.loaders.user.load(self.row.patient_id)
        return _user(row, info) if row else None

    @strawberry.field(description="The patient, the one attendee of a 1:1 appointment.")
    @audited
    async def attendees(self, info: Info[Context, None]) -> list[LazyUser]:
        row = await info.context.loaders.user.load(self.row.patient_id)
        return [_user(row, info)] if row else []

    @strawberry.field(description="The ID of the patient.")
    def user_id(self) -> int | None:
        return self.row.patient_id

    @strawberry.field(description="The ID of the provider (the other party of the patient).")
    def other_party_id(self) -> int | None:
        return self.row.provider_id

    @strawberry.field(description="Notes about the appointment (createAppointment's notes).")
    def notes(self) -> str | None:
        return self.row.reason

    @strawberry.field(description="Where the appointment takes place, as text.")
    def location(self) -> str | None:
        return self.row.location

    @strawberry.field(description="The ID of the appointment location, if one was chosen.")
    def appointment_location_id(self) -> str | None:
        place = self.row.appointment_location_id
        return None if place is None else str(place)

    @strawberry.field(description="The video chat link given for the appointment.")
    def external_videochat_url(self) -> str | None:
        return self.row.external_videochat_url

    @strawberry.field(description="The JSON value given as metadata, as it was given.")
    def metadata(self) -> JSON | None:
        return cast(JSON, read_metadata(self.row.appointment_metadata))

    @strawberry.field(description="false if the client was asked to confirm and has not.")
    def client_confirmed(
        self,
        known_requires_client_confirmed: Annotated[
            bool | None,
            strawberry.argument(description="Accepted; Carebook knows it from the record."),
        ] = None,
    ) -> bool | None:
        return self.row.client_confirmed

    @strawberry.field(description="The status of whether the provider confirmed the appointment.")
    def confirmed(self) -> bool | None:
        return self.row.confirmed

    @strawberry.field(description="When the appointment was deleted (2023-06-05 14:10:00 +0200).")
    def deleted_at(self, info: Info[Context, None]) -> str | None:
        return (
            None if self.row.deleted_at is None else render(self.row.deleted_at, info.context.zone)
        )

    @strawberry.field(description="When the appointment was created (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(
        description="When the appointment was last changed (2023-06-05 14:10:00 +0200)."
    )
    def updated_at(self, info: Info[Context, None]) -> str | None:
        return render(self.row.updated_at, info.context.zone)


@strawberry.type(name="BillingItem", description="A payment: what was bought and its price.")
class BillingItem(DisclosesUsers):
    """Healthie's BillingItem, the fields a checkout records."""

    row: strawberry.Private[BillingItemRow]

    def disclosed_user_ids(self) -> list[int | None]:
        """A payment is data of the patient who made it (its recipient is a provider)."""
        return [self.row.sender_id, self.row.recipient_id]

    @strawberry.field(description="The unique identifier of the billing item.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The amount paid, e.g. 120.00.")
    def amount_paid(self) -> str | None:
        return _money(self.row.amount_cents)

    @strawberry.field(description="The currency, lower-case ISO 4217 (usd).")
    def currency(self) -> str | None:
        return self.row.currency

    @strawberry.field(description="The state of the payment, e.g. succeeded.")
    def state(self) -> str | None:
        return self.row.state

    @strawberry.field(description="The offering that was bought, if any.")
    async def offering(self, info: Info[Context, None]) -> Offering | None:
        if self.row.offering_id is None:
            return None
        row = await info.context.loaders.offering.load(self.row.offering_id)
        return Offering(row=row) if row else None

    @strawberry.field(description="The ID of the appointment that was paid for, if any.")
    def appointment_id(self) -> strawberry.ID | None:
        return (
            None if self.row.appointment_id is None else strawberry.ID(str(self.row.appointment_id))
        )

    @strawberry.field(description="When the payment was made (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)
