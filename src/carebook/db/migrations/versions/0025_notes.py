"""notes: the messages of conversations (Healthie's Note).

Each message belongs to a conversation (deleted with it) and an organization, names its writer
(kept as null if the user row goes), and holds its sanitized HTML, erased when the message is
deleted (the row stays, flagged, so its id answers as gone).

Revision ID: 0025_notes
Revises: 0024_conversation_memberships
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_notes"
down_revision = "0024_conversation_memberships"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("deleted_by_user", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"],
            name=op.f("fk_notes_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name=op.f("fk_notes_conversation_id_conversations"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notes_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )  # fmt: skip
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_organization_id"), ["organization_id"])
        batch_op.create_index(batch_op.f("ix_notes_user_id"), ["user_id"])
        batch_op.create_index(
            "ix_notes_conversation_id_created_at", ["conversation_id", "created_at"]
        )


def downgrade() -> None:
    op.drop_table("notes")
