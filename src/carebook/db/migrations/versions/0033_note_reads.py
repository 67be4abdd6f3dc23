"""Who actually sent a chat message: ``notes.sent_by_id`` (issue 29 review).

A message written in someone else's name (staff or an integration sending as a provider, as
Healthie allows) must not count as that person having read the conversation; the read
receipts' "an answer follows reading" rule looks only at one's own messages. The existing
messages are taken as sent by their writer (nothing else was recorded).

Revision ID: 0033_note_reads
Revises: 0031_form_schedule_fixes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033_note_reads"
down_revision = "0031_form_schedule_fixes"
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


def downgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notes_sent_by_id_users"), type_="foreignkey")
        batch_op.drop_column("sent_by_id")
