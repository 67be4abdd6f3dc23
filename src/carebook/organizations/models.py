"""The organization table."""

from sqlalchemy import Boolean, String, true
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base, Timestamped


class Organization(Timestamped, Base):
    """A practice. Every provider, staff member and patient belongs to exactly one."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Whether anyone may sign up as a patient by naming one of its providers (signUp's
    # dietitian_id); when off, patients join only with an invite code (or are added by staff).
    open_sign_up: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The IANA time zone its people read date-times in when they have none of their own
    # (carebook/times.py); null: UTC. Set with ``carebook organization timezone``.
    timezone: Mapped[str | None] = mapped_column(String(64))
