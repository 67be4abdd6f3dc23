"""A conversation's newest message by an index (issue 29: last_message_content).

``Conversation.last_message_content`` and reading a conversation (``newest_note_id``) want a
conversation's newest message by id. ``ix_notes_conversation_id_created_at`` holds no id, so
that was a scan of the conversation's every message; ``(conversation_id, id)`` answers it by
reading the index backwards from the end of the conversation's range, on both databases.

Revision ID: 0034_notes_newest
Revises: 0033_note_reads
"""

from __future__ import annotations

from alembic import op

revision = "0034_notes_newest"
down_revision = "0033_note_reads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notes_conversation_id_id", "notes", ["conversation_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_notes_conversation_id_id", table_name="notes")
