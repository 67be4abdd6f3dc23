"""Scheduled messages: a message's place in its conversation, apart from its id.

A scheduled message is written (and gets its id) before it is sent, so the order of a
conversation's messages, its read receipts and its newest message cannot go by id any more:
``notes.position`` is a message's place once sent (null while it waits), backfilled with the id
(the order so far). ``ux_notes_conversation_id_position`` keeps places unique per conversation;
``ix_notes_pending_scheduled_at`` is the scheduler's scan of the pending ones.

Downgrading drops the places: a message still pending then is taken as sent (in its id's
place, with no email nor event) when upgraded again, rather than sending the ones already
released a second time.

Revision ID: 0035_scheduled_notes
Revises: 0034_notes_newest
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035_scheduled_notes"
down_revision = "0034_notes_newest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notes", sa.Column("position", sa.Integer(), nullable=True))
    op.execute("UPDATE notes SET position = id")
    op.create_index(
        "ux_notes_conversation_id_position", "notes", ["conversation_id", "position"], unique=True
    )
    op.create_index(
        "ix_notes_pending_scheduled_at",
        "notes",
        ["scheduled_at"],
        postgresql_where=sa.text("position IS NULL"),
        sqlite_where=sa.text("position IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notes_pending_scheduled_at", table_name="notes")
    op.drop_index("ux_notes_conversation_id_position", table_name="notes")
    op.execute("ALTER TABLE notes DROP COLUMN position")
