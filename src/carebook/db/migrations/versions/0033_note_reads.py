"""Who actually sent a chat message: ``notes.sent_by_id`` (issue 29 review).

A message written in someone else's name (staff or an integration sending as a provider, as
Healthie allows) must not count as that person having read the conversation; the read
receipts' "an answer follows reading" rule looks only at one's own messages. The existing
messages are taken as sent by their writer (nothing else was recorded).

``conversation_memberships.last_read_note_id``: the newest message a member has read, so a read
receipt is per message (a newer message no longer turns an older one back to unread). Existing
members who had read the latest message have read up to it; the others up to their own latest
message (an answer follows reading).

Revision ID: 0033_note_reads
Revises: 0032_merge_fixes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033_note_reads"
down_revision = "0032_merge_fixes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch: SQLite rebuilds ``notes`` (no triggers on it) to take the named foreign key with
    # its ON DELETE; PostgreSQL alters it in place.
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notes_sent_by_id_users"),
            "users",
            ["sent_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute("UPDATE notes SET sent_by_id = user_id")
    op.add_column(
        "conversation_memberships", sa.Column("last_read_note_id", sa.Integer(), nullable=True)
    )
    op.execute(
        "UPDATE conversation_memberships SET last_read_note_id = CASE WHEN viewed "
        "THEN (SELECT max(n.id) FROM notes n "
        "WHERE n.conversation_id = conversation_memberships.conversation_id) "
        "ELSE (SELECT max(n.id) FROM notes n "
        "WHERE n.conversation_id = conversation_memberships.conversation_id "
        "AND n.user_id = conversation_memberships.user_id) END"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE conversation_memberships DROP COLUMN last_read_note_id")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notes_sent_by_id_users"), type_="foreignkey")
        batch_op.drop_column("sent_by_id")
