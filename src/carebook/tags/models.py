"""The tag table and the tagging (tag applied to a user) table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db import lengths
from carebook.db.base import Base, Timestamped, utcnow
from carebook.db.types import UTCDateTime


class Tag(Timestamped, Base):
    """A label owned by one provider/staff account, listed for the whole organization.

    Names are unique per owner, case-insensitively (via ``name_key``), as Healthie documents.
    """

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("user_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # The provider/staff account that created (owns) the tag: Healthie's Tag.user.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(lengths.TAG_NAME))
    # Case folding can lengthen a name (ß -> ss), so the key has room for that.
    name_key: Mapped[str] = mapped_column(String(lengths.TAG_NAME_KEY))


class Tagging(Base):
    """A tag applied to a user. Deleting the tag deletes its taggings, never the user."""

    __tablename__ = "taggings"

    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
