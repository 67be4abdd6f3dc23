"""The tables of duplicate detection (migrations 0029_duplicate_pairs, 0039_duplicate_name_keys)."""

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base, Timestamped
from carebook.db.types import UTCDateTime

# Every reason the matcher can give at once fits (about 45 characters each, at most six).
REASONS_WIDTH = 400


class MatchKey(Base):
    """One blocking key of one active patient (duplicates/keys.py); kept by duplicates/index.py.

    The primary key, organization first, is the index the candidate search joins on.
    """

    __tablename__ = "duplicate_match_keys"

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class NameKey(Base):
    """The name tally of one active patient (duplicates/keys.py's :func:`tally_of`); kept by
    duplicates/index.py with the blocking keys.

    One row per patient rather than a count per name: every write (a creation, an archive, a
    merge, an import) inserts or deletes its own patients' rows only, so concurrent writes never
    contend on the row of a common name, nor leave a count off. Counting reads the index
    (organization, key) alone.
    """

    __tablename__ = "duplicate_name_keys"
    __table_args__ = (Index("ix_duplicate_name_keys_count", "organization_id", "key"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    organization_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[int] = mapped_column(BigInteger)


class DuplicatePair(Timestamped, Base):
    """A candidate pair of one organization's patients (``user_id`` < ``other_user_id``).

    A dismissed pair keeps its row with ``dismissed_at``: no later check or scan lists it again.
    """

    __tablename__ = "duplicate_pairs"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", "other_user_id"),
        # The staff list: open pairs of one organization, best first.
        Index("ix_duplicate_pairs_list", "organization_id", "dismissed_at", "score", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    other_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    # The matcher's reasons, "; "-separated (generic phrases, no patient data).
    reasons: Mapped[str] = mapped_column(String(REASONS_WIDTH))
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
