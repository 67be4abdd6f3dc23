"""The organization table."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base, Timestamped


class Organization(Timestamped, Base):
    """A practice. Every provider, staff member and patient belongs to exactly one."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
