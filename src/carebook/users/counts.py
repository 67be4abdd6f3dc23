"""How many users an organization has per role and status, kept by database triggers.

Counting a million patients takes a full index scan on every ``usersCount``; the triggers of
migration 0010 keep these counters exact in the same transaction as every insert, delete and
change of ``organization_id``, ``role`` or ``active`` (whatever the write path, ORM or SQL), so
an unfiltered count is one primary-key read that agrees with the list in every snapshot.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base

# Rebuilds the counters from the users table (after a bulk load that bypassed the triggers).
RECOUNT_SQL = (
    "INSERT INTO user_counts (organization_id, role, active, total)"
    " SELECT organization_id, role, active, COUNT(*) FROM users"
    " GROUP BY organization_id, role, active"
)


class UserCount(Base):
    """``total`` users of ``organization_id`` with this ``role`` and ``active`` flag."""

    __tablename__ = "user_counts"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
