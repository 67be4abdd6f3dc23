"""The tag table and the tagging (tag applied to a user) table."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
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


class AppliedTag(Base):
    """One application of a tag to a user, as Healthie's ``AppliedTag`` reads it: its own id,
    when and by whom it was applied, and when it was removed.

    ``taggings`` stays the live set that the patient list filters on (its indexes and
    ``active_tags`` are unchanged); this table is the record of each application and keeps a
    removed one (``deleted_at``) readable with ``appliedTag(include_deleted: true)``. The tag
    services write both in one transaction: a tagging exists exactly when one row here with
    the same tag and user has no ``deleted_at``.
    """

    __tablename__ = "applied_tags"
    __table_args__ = (
        Index("ix_applied_tags_user_id_tag_id", "user_id", "tag_id"),
        # Integrations poll appliedTags(updated_after:): the newest rows without a scan.
        Index("ix_applied_tags_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null once the tag itself is deleted: SQLite may give a deleted tag's id to a new tag, so
    # a kept id could name someone else's tag.
    tag_id: Mapped[int | None] = mapped_column(
        ForeignKey("tags.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Who applied it (null for applications made before this was recorded).
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
