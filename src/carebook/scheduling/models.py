"""Appointment types and offerings of an organization, and appointments between two users."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db import lengths
from carebook.db.base import Base, Timestamped, utcnow
from carebook.db.types import UTCDateTime

CANCELLED = "Cancelled"


class AppointmentType(Timestamped, Base):
    """A kind of appointment the organization offers (name, length, price)."""

    __tablename__ = "appointment_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(lengths.LABEL))
    length: Mapped[int] = mapped_column(Integer)  # minutes
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    clients_can_book: Mapped[bool] = mapped_column(Boolean, default=True)
    # deleteAppointmentType: no longer listed or bookable; its appointments keep it.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppointmentLocation(Timestamped, Base):
    """A place of the organization where appointments are held (Healthie's AppointmentLocation,
    kept in its appointment settings)."""

    __tablename__ = "appointment_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    location: Mapped[str] = mapped_column(String(lengths.APPOINTMENT_LOCATION))
    clients_can_book: Mapped[bool] = mapped_column(Boolean, default=True)
    # Removed (_destroy): no longer listed or chosen; appointments held there keep it.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Offering(Timestamped, Base):
    """Something a patient can buy (a package, a programme), at a fixed price."""

    __tablename__ = "offerings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(lengths.LABEL))
    description: Mapped[str | None] = mapped_column(Text)
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    billing_frequency: Mapped[str] = mapped_column(
        String(lengths.BILLING_FREQUENCY), default="Once"
    )


class Appointment(Timestamped, Base):
    """An appointment of a patient with a provider. ``start``/``end`` are UTC.

    A provider is never booked twice at the same start: a unique index over the appointments that
    are not cancelled backs the overlap check made under a lock (see scheduling/service.py).
    """

    __tablename__ = "appointments"
    __table_args__ = (
        Index(
            "uq_appointments_provider_start",
            "provider_id",
            "start",
            unique=True,
            sqlite_where=text("cancelled_at IS NULL"),
            postgresql_where=text("cancelled_at IS NULL"),
        ),
        # next_appt_date: the earliest future start per patient.
        Index("ix_appointments_patient_start", "patient_id", "start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    appointment_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_types.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    # The IANA zone the appointment was booked in; times are returned with its offset.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    contact_type: Mapped[str | None] = mapped_column(String(lengths.CONTACT_TYPE))
    reason: Mapped[str | None] = mapped_column(String(lengths.APPOINTMENT_REASON))
    pm_status: Mapped[str | None] = mapped_column(String(lengths.PM_STATUS))
    # Set when the appointment is cancelled or deleted: from then on it holds no slot (the
    # unique index and the overlap check look at this column only).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # deleteAppointment: hidden from every read but appointment(include_deleted: true).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The JSON value the caller gave (Healthie's JSON scalar), serialized.
    appointment_metadata: Mapped[str | None] = mapped_column("metadata", String(lengths.METADATA))
    external_videochat_url: Mapped[str | None] = mapped_column(String(lengths.VIDEOCHAT_URL))
    location: Mapped[str | None] = mapped_column(String(lengths.APPOINTMENT_LOCATION))
    appointment_location_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment_locations.id")
    )
    # None: the client was never asked to confirm (Healthie's "false if ... has not").
    client_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    confirmed: Mapped[bool | None] = mapped_column(Boolean)


class BillingItem(Base):
    """What a patient paid for in a checkout, at which price, and the processor's reference."""

    __tablename__ = "billing_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("offerings.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    state: Mapped[str] = mapped_column(String(20))
    payment_provider: Mapped[str | None] = mapped_column(String(40))
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
