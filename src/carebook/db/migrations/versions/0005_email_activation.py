"""Signup tokens, requested form completions, and the outbox's delivery lease.

Revision ID: 0005_email_activation
Revises: 0004_search_conversations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_email_activation"
down_revision = "0004_search_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signup_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            ondelete="CASCADE",
            name=op.f("fk_signup_tokens_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_tokens")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_signup_tokens_token_digest")),
    )
    op.create_index(op.f("ix_signup_tokens_user_id"), "signup_tokens", ["user_id"])
    op.create_table(
        "requested_form_completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("custom_module_form_id", sa.String(100), nullable=False),
        sa.Column("item_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_requested_form_completions_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_requested_form_completions_recipient_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["users.id"], name=op.f("fk_requested_form_completions_sender_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requested_form_completions")),
    )
    op.create_index(
        op.f("ix_requested_form_completions_organization_id"),
        "requested_form_completions",
        ["organization_id"],
    )
    op.create_index(
        op.f("ix_requested_form_completions_recipient_id"),
        "requested_form_completions",
        ["recipient_id"],
    )
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("sent_at")
        batch.drop_column("lease_until")
    op.drop_index(
        op.f("ix_requested_form_completions_recipient_id"), table_name="requested_form_completions"
    )
    op.drop_index(
        op.f("ix_requested_form_completions_organization_id"),
        table_name="requested_form_completions",
    )
    op.drop_table("requested_form_completions")
    op.drop_index(op.f("ix_signup_tokens_user_id"), table_name="signup_tokens")
    op.drop_table("signup_tokens")
