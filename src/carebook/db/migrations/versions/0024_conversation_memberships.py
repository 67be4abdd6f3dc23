"""Conversations and memberships as Healthie reads them (issue 29).

``conversations`` gains ``updated_at``, the client it is about (``patient_id``) and its closing
(``closed_by_id``, ``closed_at``). ``conversation_memberships`` gets an id of its own (Healthie's
``ConversationMembership.id``; the pair conversation/user stays unique), its timestamps, who
added the member, and the member's ``viewed`` and ``archived`` state. The table is rebuilt: a
primary key cannot change in place on SQLite. Existing rows keep their conversations' creation
time, are viewed and not archived.

Revision ID: 0024_conversation_memberships
Revises: 0023_events_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_conversation_memberships"
down_revision = "0023_events_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _conversations_up()
    _memberships_up()


def _conversations_up() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("patient_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_conversations_patient_id_users"),
            "users",
            ["patient_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_conversations_closed_by_id_users"),
            "users",
            ["closed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_conversations_patient_id"), ["patient_id"])
    op.execute("UPDATE conversations SET updated_at = created_at")
    # The subject of an existing conversation: its patient member of smallest id.
    op.execute(
        "UPDATE conversations SET patient_id = (SELECT MIN(m.user_id) "
        "FROM conversation_memberships m JOIN users u ON u.id = m.user_id "
        "WHERE m.conversation_id = conversations.id AND u.role = 'patient')"
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column(
            "updated_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )  # fmt: skip


def _memberships_up() -> None:
    op.execute(
        "CREATE TABLE conversation_memberships_old AS "
        "SELECT conversation_id, user_id FROM conversation_memberships"
    )
    op.drop_index(
        op.f("ix_conversation_memberships_user_id"), table_name="conversation_memberships"
    )
    op.drop_table("conversation_memberships")
    op.create_table(
        "conversation_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("viewed", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], ondelete="CASCADE",
            name=op.f("fk_conversation_memberships_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE",
            name=op.f("fk_conversation_memberships_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["users.id"], ondelete="SET NULL",
            name=op.f("fk_conversation_memberships_creator_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_memberships")),
        sa.UniqueConstraint(
            "conversation_id", "user_id",
            name=op.f("uq_conversation_memberships_conversation_id_user_id"),
        ),
    )  # fmt: skip
    op.create_index(
        "ix_conversation_memberships_user_id_updated_at",
        "conversation_memberships",
        ["user_id", "updated_at"],
    )
    op.execute(
        "INSERT INTO conversation_memberships "
        "(conversation_id, user_id, viewed, archived, created_at, updated_at) "
        "SELECT o.conversation_id, o.user_id, TRUE, FALSE, c.created_at, c.created_at "
        "FROM conversation_memberships_old o JOIN conversations c ON c.id = o.conversation_id "
        "ORDER BY o.conversation_id, o.user_id"
    )
    op.drop_table("conversation_memberships_old")


def downgrade() -> None:
    op.execute(
        "CREATE TABLE conversation_memberships_old AS "
        "SELECT conversation_id, user_id FROM conversation_memberships"
    )
    op.drop_index(
        "ix_conversation_memberships_user_id_updated_at", table_name="conversation_memberships"
    )
    op.drop_table("conversation_memberships")
    op.create_table(
        "conversation_memberships",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], ondelete="CASCADE",
            name=op.f("fk_conversation_memberships_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE",
            name=op.f("fk_conversation_memberships_user_id_users"),
        ),
        sa.PrimaryKeyConstraint(
            "conversation_id", "user_id", name=op.f("pk_conversation_memberships")
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_conversation_memberships_user_id"), "conversation_memberships", ["user_id"]
    )
    op.execute(
        "INSERT INTO conversation_memberships (conversation_id, user_id) "
        "SELECT conversation_id, user_id FROM conversation_memberships_old"
    )
    op.drop_table("conversation_memberships_old")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_patient_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_conversations_closed_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_conversations_patient_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("closed_at")
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("patient_id")
        batch_op.drop_column("updated_at")
