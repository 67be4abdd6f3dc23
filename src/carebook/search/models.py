"""The search token table: one row per (user, token), written on every change of indexed fields."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base

# Byte-wise ("C") ordering on PostgreSQL, as SQLite's default, so a prefix is one index range.
TokenText = String(100).with_variant(String(100, collation="C"), "postgresql")


class SearchToken(Base):
    """``token`` starts a word of an indexed field of ``user_id`` (see carebook.search.text)."""

    __tablename__ = "search_tokens"
    # Probing one user's tokens (and deleting them on re-index) is one seek on this index.
    __table_args__ = (Index("ix_search_tokens_user_id_token", "user_id", "token"),)

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(TokenText, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
