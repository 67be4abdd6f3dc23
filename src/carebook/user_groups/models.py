"""User groups and the onboarding flows their new patients are asked to complete.

A patient is in at most one group (``users.user_group_id``). Group names are unique inside an
organization without regard to case: ``name_key`` holds the case-folded name under a unique
index, and the service checks it first so that a clash is a clear message, not a conflict.
"""

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db import lengths
from carebook.db.base import Base, Timestamped


class OnboardingFlow(Timestamped, Base):
    """A named intake flow of an organization; groups point at the flow their patients get."""

    __tablename__ = "onboarding_flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(lengths.LABEL))
    # Case-folded name, for case-insensitive search and sorting.
    name_key: Mapped[str] = mapped_column(String(lengths.LABEL_KEY))


class UserGroup(Timestamped, Base):
    """A group of patients inside one organization."""

    __tablename__ = "user_groups"
    __table_args__ = (Index("uq_user_groups_name_key", "organization_id", "name_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(lengths.LABEL))
    name_key: Mapped[str] = mapped_column(String(lengths.LABEL_KEY))
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)
    onboarding_flow_id: Mapped[int | None] = mapped_column(
        ForeignKey("onboarding_flows.id", ondelete="SET NULL"), index=True
    )
