"""The Notification object and its sort enum."""

from enum import Enum

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.scheduling.types import Appointment
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.times import render, render_or_none
from carebook.user_notifications.models import NotificationKind
from carebook.user_notifications.models import UserNotification as NotificationRow

TEXTS = {
    NotificationKind.PROFILE_UPDATED.value: "updated their profile",
    NotificationKind.APPOINTMENT_BOOKED.value: "booked an appointment",
    NotificationKind.OFFERING_PURCHASED.value: "made a purchase",
}


@strawberry.enum(name="NotificationOrderKeys", description="Notification sorting enum.")
class NotificationOrderKeys(Enum):
    """Healthie's NotificationOrderKeys."""

    CREATED_AT_ASC = "created_at_asc"
    CREATED_AT_DESC = "created_at_desc"


@strawberry.type(name="Notification", description="Something a patient did, for their provider.")
class Notification(DisclosesUsers):
    """An in-app notification of the caller (see docs/api.md)."""

    row: strawberry.Private[NotificationRow]

    def disclosed_user_ids(self) -> list[int | None]:
        """A notification tells what a patient did: their data."""
        return [self.row.patient_id]

    @strawberry.field(description="The unique identifier of the notification.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(
        description="What happened: profile_updated, appointment_booked or offering_purchased."
    )
    def notification_type(self) -> str:
        return self.row.kind

    @strawberry.field(description="What happened, as a phrase following the patient's name.")
    def text(self) -> str:
        return TEXTS.get(self.row.kind, self.row.kind)

    @strawberry.field(description="True once the notification has been seen.")
    def seen(self) -> bool:
        return self.row.seen_at is not None

    @strawberry.field(description="When it was seen, if seen (2023-06-05 14:10:00 +0200).")
    def seen_at(self, info: Info[Context, None]) -> str | None:
        return render_or_none(self.row.seen_at, info.context.zone)

    @strawberry.field(description="When it happened (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="The ID of the patient it is about.")
    def other_party_id(self) -> str | None:  # Healthie types it String
        return str(self.row.patient_id)

    @strawberry.field(description="The patient it is about.")
    @audited
    async def other_party(self, info: Info[Context, None]) -> LazyUser | None:
        row = await info.context.loaders.user.load(self.row.patient_id)
        return user_object(row, info.context.viewer) if row else None

    @strawberry.field(description="The appointment it is about, if any.")
    @audited
    async def appointment(self, info: Info[Context, None]) -> Appointment | None:
        if self.row.appointment_id is None:
            return None
        row = await info.context.loaders.appointment.load(self.row.appointment_id)
        return Appointment(row=row) if row else None
