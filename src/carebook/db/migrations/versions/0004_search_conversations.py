"""Search tokens, conversations and their members; indexes for the patient list.

Revision ID: 0004_search_conversations
Revises: 0003_tags_locations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_search_conversations"
down_revision = "0003_tags_locations"
branch_labels = None
depends_on = None

TOKEN = sa.String(100).with_variant(sa.String(100, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "search_tokens",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("token", TOKEN, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name=op.f("fk_search_tokens_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            ondelete="CASCADE",
            name=op.f("fk_search_tokens_user_id_users"),
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "token", "user_id", name=op.f("pk_search_tokens")
        ),
    )
    op.create_index("ix_search_tokens_user_id_token", "search_tokens", ["user_id", "token"])
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_conversations_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_conversations_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(op.f("ix_conversations_organization_id"), "conversations", ["organization_id"])
    op.create_table(
        "conversation_memberships",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            ondelete="CASCADE",
            name=op.f("fk_conversation_memberships_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            ondelete="CASCADE",
            name=op.f("fk_conversation_memberships_user_id_users"),
        ),
        sa.PrimaryKeyConstraint(
            "conversation_id", "user_id", name=op.f("pk_conversation_memberships")
        ),
    )
    op.create_index(
        op.f("ix_conversation_memberships_user_id"), "conversation_memberships", ["user_id"]
    )
    # The patient list's default sort and its tie-breaker, inside one organization.
    op.create_index(
        "ix_users_org_role_last_name", "users", ["organization_id", "role", "last_name", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_users_org_role_last_name", table_name="users")
    op.drop_index(
        op.f("ix_conversation_memberships_user_id"), table_name="conversation_memberships"
    )
    op.drop_table("conversation_memberships")
    op.drop_index(op.f("ix_conversations_organization_id"), table_name="conversations")
    op.drop_table("conversations")
    op.drop_index("ix_search_tokens_user_id_token", table_name="search_tokens")
    op.drop_table("search_tokens")
