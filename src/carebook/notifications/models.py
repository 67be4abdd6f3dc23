"""The outbox: emails written in the same transaction as the change that causes them."""

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base, Timestamped, utcnow
from carebook.db.types import UTCDateTime


class OutboxStatus(enum.StrEnum):
    """Where a message is in its delivery."""

    PENDING = "pending"
    # Claimed by a worker until lease_until; a lapsed lease (a crashed worker) is claimable again.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Not sent: the recipient turned this kind of email off after it was queued.
    SKIPPED = "skipped"


class EmailKind(enum.StrEnum):
    """Which template a message uses."""

    WELCOME = "welcome"
    INTAKE_REMINDER = "intake_forms_reminder"
    FORM_REQUEST_REMINDER = "form_request_reminder"
    # Someone gave this account's email to signUp or completeCheckout: the caller is not told
    # that the account exists (being a patient is protected health information); its owner is.
    ACCOUNT_EXISTS = "account_exists"
    # To the patient, when an appointment with them is booked or cancelled.
    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    # resetPassword: a link to choose a new password (params: password_reset_id).
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a template name, not a secret)
    # To an organization's providers: one of its webhooks has failed for about a day, then has
    # been disabled (params: webhook_id, url_host; never an event's content).
    WEBHOOK_FAILING = "webhook_failing"
    WEBHOOK_DISABLED = "webhook_disabled"
    # To a conversation member: someone wrote to them (params: conversation_id; never the
    # message: email is not a safe channel for health information, as Healthie does it).
    NEW_MESSAGE = "new_message"


class OutboxMessage(Base):
    """One email to deliver. Holds references, not rendered patient data."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    recipient_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Extra template parameters as JSON text (e.g. a form request id), never names or emails.
    params: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # An error code or class name only: SMTP replies can quote addresses.
    last_error: Mapped[str | None] = mapped_column(String(500))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationSetting(Timestamped, Base):
    """A user's email preferences (Healthie's ``NotificationSetting``), one row per user.

    Only the preferences Carebook acts on are stored (docs/decisions.md, "Notification settings").
    A user without a row has every preference on; the row is written on the first change, so
    creating users (and the users list) costs nothing more.
    """

    __tablename__ = "notification_settings"

    # One setting per user: its id is the user's, so Healthie's ``id`` names either.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    send_message_emails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    send_email_on_appointment_book: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    send_email_on_appointment_cancel: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    send_form_request_emails: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
