"""NotificationSetting and SentNotificationRecord, as Healthie names them."""

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.notifications.models import EmailKind, OutboxMessage, OutboxStatus
from carebook.notifications.models import NotificationSetting as SettingRow
from carebook.notifications.queries import representation
from carebook.times import render, render_or_none


@strawberry.type(
    name="NotificationSetting",
    description="A user's email preferences: the ones Carebook acts on (see docs/api.md).",
)
class NotificationSetting(DisclosesUsers):
    """One user's setting; ``row`` is None until it is first changed (every preference on)."""

    owner_id: strawberry.Private[int]
    row: strawberry.Private[SettingRow | None]

    def disclosed_user_ids(self) -> list[int | None]:
        """A setting is its owner's data."""
        return [self.owner_id]

    def _preference(self, name: str) -> bool:
        # No row yet: the user never changed a preference, and every one is on.
        return True if self.row is None else bool(getattr(self.row, name))

    @strawberry.field(description="The unique identifier of the setting (its user's id).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.owner_id))

    @strawberry.field(description="Email the patient when an appointment with them is booked.")
    def send_email_on_appointment_book(self) -> bool | None:
        return self._preference("send_email_on_appointment_book")

    @strawberry.field(description="Email the patient when an appointment with them is cancelled.")
    def send_email_on_appointment_cancel(self) -> bool | None:
        return self._preference("send_email_on_appointment_cancel")

    @strawberry.field(
        description="Email reminders of forms to fill in (intake and requested forms). A "
        "Carebook addition: Healthie has no such preference."
    )
    def send_form_request_emails(self) -> bool | None:
        return self._preference("send_form_request_emails")

    @strawberry.field(
        description="Email when a new chat message arrives (Carebook has no chat messages yet: "
        "kept for when it does)."
    )
    def send_message_emails(self) -> bool | None:
        return self._preference("send_message_emails")

    @strawberry.field(
        description="When the setting was last changed (2023-06-05 14:10:00 +0200); null if never."
    )
    def updated_at(self, info: Info[Context, None]) -> str | None:
        return render_or_none(self.row.updated_at if self.row else None, info.context.zone)

    @strawberry.field(description="The owner of the setting.")
    @audited
    async def user(self, info: Info[Context, None]) -> LazyUser | None:
        row = await info.context.loaders.user.load(self.owner_id)
        return user_object(row, info.context.viewer) if row else None


DESCRIPTIONS = {
    EmailKind.WELCOME.value: "Welcome, with a link to set a password",
    EmailKind.INTAKE_REMINDER.value: "Reminder to complete the intake forms",
    EmailKind.FORM_REQUEST_REMINDER.value: "Reminder to complete a requested form",
    EmailKind.ACCOUNT_EXISTS.value: (
        "Notice that this email address was used to sign up, book or change an account's email"
    ),
    EmailKind.APPOINTMENT_BOOKED.value: "Appointment booked",
    EmailKind.APPOINTMENT_CANCELLED.value: "Appointment cancelled",
    EmailKind.PASSWORD_RESET.value: "Link to choose a new password",
}

# Outbox statuses as delivery statuses: a message being sent is still pending.
DELIVERY_STATUS = {
    OutboxStatus.PENDING.value: "pending",
    OutboxStatus.SENDING.value: "pending",
    OutboxStatus.SENT.value: "sent",
    OutboxStatus.FAILED.value: "failed",
    OutboxStatus.SKIPPED.value: "skipped",
}


@strawberry.type(
    name="SentNotificationRecord",
    description="An email sent (or queued) to a user, from the outbox: what kind, when, and "
    "its outcome. Never the email's text.",
)
class SentNotificationRecord(DisclosesUsers):
    """One outbox message."""

    row: strawberry.Private[OutboxMessage]

    def disclosed_user_ids(self) -> list[int | None]:
        """What was sent to a patient is their data."""
        return [self.row.recipient_user_id]

    @strawberry.field(description="How it was sent: always 'email' in Carebook.")
    def category(self) -> str:
        return "email"

    @strawberry.field(description="When it was queued (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(
        description="'pending' (queued or being sent), 'sent' (accepted by the mail server) or "
        "'failed' (given up: refused, no address, or too many attempts) or 'skipped' (turned off "
        "by the recipient after it was queued)."
    )
    def delivery_status(self) -> str:
        return DELIVERY_STATUS.get(self.row.status, self.row.status)

    @strawberry.field(description="The unique identifier of the record.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="What the email was about, in a few words (never its text).")
    def notification_description(self) -> str | None:
        return DESCRIPTIONS.get(self.row.kind)

    @strawberry.field(
        description="The kind of email: welcome, intake_forms_reminder, form_request_reminder, "
        "account_exists, appointment_booked, appointment_cancelled, password_reset."
    )
    def notification_type(self) -> str | None:
        return self.row.kind

    @strawberry.field(description="The group of the kind: forms or appointments (else null).")
    def representation_type(self) -> str | None:
        return representation(self.row.kind)

    @strawberry.field(description="The ID of the user this notification was sent to.")
    def user_id(self) -> strawberry.ID | None:
        return strawberry.ID(str(self.row.recipient_user_id))
