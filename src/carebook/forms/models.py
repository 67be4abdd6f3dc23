"""Requested form completions (Healthie's ``RequestedFormCompletion``) and recurring requests
(Healthie's ``RecurringForm``), with what the scheduler needs to create each occurrence once."""

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db import lengths
from carebook.db.base import Base, Timestamped, utcnow
from carebook.db.types import UTCDateTime


class FormRequestStatus(enum.StrEnum):
    """Where a requested form stands (Carebook has no form filling yet: it stays not started)."""

    NOT_STARTED = "Not Started"
    COMPLETED = "Completed"


class RequestedFormCompletion(Timestamped, Base):
    """A form a provider asked a patient to fill in."""

    __tablename__ = "requested_form_completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The form template's id in the practice's form builder (not modelled by Carebook).
    custom_module_form_id: Mapped[str] = mapped_column(String(lengths.FORM_ID))
    item_type: Mapped[str] = mapped_column(String(40), default="CustomModuleForm")
    status: Mapped[str] = mapped_column(String(40), default=FormRequestStatus.NOT_STARTED)
    # Healthie's metadata: a serialized JSON object the sender attaches (staff read it).
    request_metadata: Mapped[str | None] = mapped_column("metadata", String(lengths.METADATA))
    # The recurring request this one is an occurrence of (null: a one-off request).
    recurring_form_id: Mapped[int | None] = mapped_column(
        ForeignKey("recurring_forms.id", ondelete="SET NULL"), index=True
    )


class RecurringForm(Timestamped, Base):
    """A form request repeated on a schedule (Healthie's ``RecurringForm``).

    The recurrence is kept as Healthie's inputs (strings, checked on write by
    forms/recurrence.py) and the sender's zone they are read in; ``next_run_at`` is the next
    occurrence in UTC (null: none left).
    """

    __tablename__ = "recurring_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # who set it up
    form_id: Mapped[str] = mapped_column(String(lengths.FORM_ID))
    item_type: Mapped[str] = mapped_column(String(40), default="CustomModuleForm")
    frequency: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[str | None] = mapped_column(String(16))
    monthday: Mapped[str | None] = mapped_column(String(8))
    hour: Mapped[str | None] = mapped_column(String(4))
    minute: Mapped[str | None] = mapped_column(String(4))
    period: Mapped[str | None] = mapped_column(String(4))
    ends_on: Mapped[date | None] = mapped_column(Date())
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_active: Mapped[bool] = mapped_column(Boolean(), default=True)
    skip_notification_email: Mapped[bool] = mapped_column(Boolean(), default=False)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # After a failed occurrence: not tried again before retry_at (backing off per attempt).
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_attempts: Mapped[int] = mapped_column(Integer(), default=0, server_default="0")
    # Copied onto each occurrence's request.
    request_metadata: Mapped[str | None] = mapped_column("metadata", String(lengths.METADATA))


class RecurringFormRecipient(Base):
    """A patient or a user group a recurring request goes to (a group: its active patients at
    each occurrence)."""

    __tablename__ = "recurring_form_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    recurring_form_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_forms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    user_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_groups.id", ondelete="CASCADE"), index=True
    )
    # When it was added (null: before this was recorded). unmergeClients moves back only a
    # recipient older than the merge: SQLite may give a deleted one's id to a new one.
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)


class RecurringFormRun(Base):
    """One occurrence of a recurring request, created once: the unique key is the guarantee
    that two schedulers (two servers, or one restarted mid-run) never both create it."""

    __tablename__ = "recurring_form_runs"
    __table_args__ = (UniqueConstraint("recurring_form_id", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recurring_form_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_forms.id", ondelete="CASCADE")
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Passed over without requests: missed during downtime before the latest one (sent).
    skipped: Mapped[bool] = mapped_column(Boolean(), default=False, server_default=false())


class SchedulerLease(Base):
    """Which server runs a scheduler, until when: one row per scheduler, taken by a
    conditional UPDATE, so servers take turns instead of all scanning at once."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
