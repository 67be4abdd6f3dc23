"""The search token table: one row per (user, token), written on every change of indexed fields."""

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db import lengths
from carebook.db.base import Base

# Byte-wise ("C") ordering on PostgreSQL, as SQLite's default, so a prefix is one index range.
TokenText = String(100).with_variant(String(100, collation="C"), "postgresql")


class SearchToken(Base):
    """``token`` starts a word of an indexed field of ``user_id`` (see carebook.search.text).

    ``last_name``, ``role`` and ``active`` copy the user's columns (kept in step by the same hook)
    so that a term's matches can be counted, and ordered by the default sort, from one index
    without reading a single user row. ``shared`` (see ``text.shared_prefixes``) picks one row
    per matching user out of a term's range, so counts need no DISTINCT.
    """

    __tablename__ = "search_tokens"
    __table_args__ = (
        # A user's tokens, unique: probing them (and deleting them on re-index, or with the
        # user) is one seek. Not (organization_id, token, user_id), which the index below
        # starts with: one index fewer for each token written (migration 0038).
        PrimaryKeyConstraint("user_id", "token"),
        # A term's range, covering: counts and last-name-ordered pages are index-only scans.
        Index(
            "ix_search_tokens_org_token_sort",
            "organization_id",
            "token",
            "role",
            "active",
            "last_name",
            "user_id",
            "shared",
        ),
        # One row per patient of a term: ``shared IN (0 .. len(term) - 1)`` are a few seeks, each
        # reading only the first token of each user's run (see ``text.shared_prefixes``): counts
        # and the longer tokens' stream skip the range's other rows.
        Index(
            "ix_search_tokens_org_shared_token",
            "organization_id",
            "shared",
            "token",
            "role",
            "active",
            "last_name",
            "user_id",
        ),
    )

    # The user's organization, copied (as last_name, role and active are) so that a term's
    # range is one organization's. No foreign key: the user's own holds the token to the
    # organization, and checking each token against the same organization row cost an eighth
    # of the tokens' INSERT on PostgreSQL (migration 0038).
    organization_id: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(TokenText)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The same type (and so the same collation) as users.last_name: the orders must agree.
    last_name: Mapped[str] = mapped_column(
        String(lengths.PERSON_NAME), default="", server_default=""
    )
    role: Mapped[str] = mapped_column(String(16), default="patient", server_default="patient")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Leading characters shared with the user's previous token in sorted order (0 for the first).
    shared: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
