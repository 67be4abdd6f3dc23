"""Conversation membership: the minimal model behind ``users(conversation_id:)``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db import lengths
from carebook.db.base import Base, utcnow
from carebook.db.types import UTCDateTime


class Conversation(Base):
    """A conversation inside one organization."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str | None] = mapped_column(String(lengths.LABEL))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConversationMembership(Base):
    """A user taking part in a conversation."""

    __tablename__ = "conversation_memberships"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # When the user joined (null: before this was recorded). unmergeClients moves back only a
    # membership older than the merge: one ended and made again since is the target's own.
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
