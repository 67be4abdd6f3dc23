"""In-app notifications: a provider learns that one of their patients did something."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base, utcnow
from carebook.db.types import UTCDateTime


class NotificationKind(enum.StrEnum):
    """What happened."""

    PROFILE_UPDATED = "profile_updated"
    APPOINTMENT_BOOKED = "appointment_booked"
    OFFERING_PURCHASED = "offering_purchased"


class UserNotification(Base):
    """One notification for ``recipient_id`` about ``patient_id``. Holds references, no PHI."""

    __tablename__ = "user_notifications"
    __table_args__ = (
        Index("ix_user_notifications_recipient_created", "recipient_id", "created_at"),
        Index("ix_user_notifications_recipient_patient", "recipient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
