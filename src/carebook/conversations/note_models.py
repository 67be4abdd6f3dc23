"""Chat messages: Healthie's ``Note``, one message of a conversation."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base, Timestamped
from carebook.db.types import UTCDateTime


class Note(Timestamped, Base):
    """A message written in a conversation by one of its members.

    A deleted message keeps its row (its id answers as gone, and webhook receivers that query
    it back learn it is gone) but not its text: ``content`` is erased.
    """

    __tablename__ = "notes"
    __table_args__ = (
        # A conversation's messages in order.
        Index("ix_notes_conversation_id_created_at", "conversation_id", "created_at"),
        # Its newest message by id (last_message_content, reading up to the newest): a
        # backward read of the conversation's range, not a scan of its history.
        Index("ix_notes_conversation_id_id", "conversation_id", "id"),
        # Its messages in the order they were sent (a scheduled one takes its place when it
        # is released, after those sent while it waited); unique, so two writers racing on a
        # conversation can never share a place.
        Index("ux_notes_conversation_id_position", "conversation_id", "position", unique=True),
        # The scheduler's scan: pending messages by due time.
        Index(
            "ix_notes_pending_scheduled_at",
            "scheduled_at",
            postgresql_where=text("position IS NULL"),
            sqlite_where=text("position IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    # The creator (Healthie's user_id): the caller, or the member they write on behalf of.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Who actually sent it (the caller): differs from user_id when sent in another's name. Only
    # one's own messages count as having read the conversation (note_queries.viewed_by).
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Sanitized HTML (conversations/content.py); null once deleted.
    content: Mapped[str | None] = mapped_column(Text)
    # When a scheduled message is (or was) due; null for a message sent at once.
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Its place in the conversation once sent (1 + the conversation's last, taken under the
    # conversation's lock); null while it waits to be sent. Order, read receipts and the
    # newest message go by it, not by id: a scheduled message keeps the id it was written
    # with but comes after the messages sent while it waited.
    position: Mapped[int | None] = mapped_column(Integer())
    deleted: Mapped[bool] = mapped_column(Boolean(), default=False, server_default=false())
    # deleteNote's deleted_by_user: whether the writer (not an administrator) removed it.
    deleted_by_user: Mapped[bool] = mapped_column(Boolean(), default=False, server_default=false())
