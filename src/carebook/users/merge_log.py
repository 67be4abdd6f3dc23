"""The log of mergeClients: what each merge changed, so that unmergeClients restores exactly that.

A merge moves the rows of the merged patients to the target (carebook/merges). Each row it
moved is written here by table, column and primary key, with the patient it came from; each
row it left where it was (the target already had one like it, e.g. the same tag) is written
too, so the log tells the whole story. The columns of the patients' own rows that the merge
changed (active, archived_at, the email given to the target, the pointer) are kept as they were
before, as JSON, in ``users_before``.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base, utcnow
from carebook.db.types import UTCDateTime

# How a row took part in a merge.
MOVED = "moved"  # its column now names the target; unmerge puts the merged patient back
KEPT = "kept"  # the target already had one like it: left on the merged patient, unchanged


class ClientMerge(Base):
    """One mergeClients: who merged which patients into whom, when, and whether it was undone."""

    __tablename__ = "client_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Who merged and who undid it; the audit trail has both too, this is for the rules.
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    unmerged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    unmerged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # {"<user id>": {"<column>": value before the merge}}, JSON.
    users_before: Mapped[str] = mapped_column(Text)


class ClientMergeRow(Base):
    """One row that a merge moved to the target (or left, see ``KEPT``)."""

    __tablename__ = "client_merge_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    merge_id: Mapped[int] = mapped_column(
        ForeignKey("client_merges.id", ondelete="CASCADE"), index=True
    )
    table_name: Mapped[str] = mapped_column(String(64))
    column_name: Mapped[str] = mapped_column(String(64))
    # The merged patient the row belonged to; no foreign key: the log outlives nothing it names,
    # patients are never deleted.
    from_user_id: Mapped[int] = mapped_column(Integer)
    # The row's primary key before the merge, JSON {"column": value}.
    row_key: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(8))
