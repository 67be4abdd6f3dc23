"""Conversations and their memberships, as Healthie's Conversation and ConversationMembership."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db import lengths
from carebook.db.base import Base, Timestamped
from carebook.db.types import UTCDateTime


class Conversation(Timestamped, Base):
    """A conversation inside one organization.

    ``updated_at`` moves with every change a member sees (a message, a rename, a member added
    or removed, closing), so lists ordered by it put the liveliest conversation first.
    """

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str | None] = mapped_column(String(lengths.LABEL))
    # Healthie's patient_id: the client the conversation is about (the first patient added;
    # kept when that patient leaves, as Healthie keeps the subject of a conversation).
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Closing (Healthie's updateConversation closed_by_id) archives the conversation for all.
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConversationMembership(Timestamped, Base):
    """A user taking part in a conversation, with their own read and archive state.

    ``viewed`` is Healthie's: whether this member has seen the latest message (true until
    someone else writes; a new message sets the other members' to false, reading sets it back).
    """

    __tablename__ = "conversation_memberships"
    __table_args__ = (
        UniqueConstraint("conversation_id", "user_id"),
        # A member's inbox: their memberships, newest change first.
        Index("ix_conversation_memberships_user_id_updated_at", "user_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    viewed: Mapped[bool] = mapped_column(Boolean(), default=True, server_default=true())
    archived: Mapped[bool] = mapped_column(Boolean(), default=False, server_default=false())
    # The newest message this member has read (per-message receipts, Note.viewed): set when
    # they mark the conversation read or send a message; None (nothing read) for a new member.
    last_read_note_id: Mapped[int | None] = mapped_column(Integer())
