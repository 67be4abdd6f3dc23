"""duplicate_match_keys (blocking keys of active patients) and duplicate_pairs (issue 26).

The keys of patients that exist before this revision are written by
``carebook duplicates reindex`` (the rules live in carebook.duplicates.keys, which a migration
does not import); docs/duplicates.md says when to run it.

Revision ID: 0029_duplicate_pairs
Revises: 0027_recurring_forms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029_duplicate_pairs"
down_revision = "0027_recurring_forms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duplicate_match_keys",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_duplicate_match_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "key", "user_id", name=op.f("pk_duplicate_match_keys")
        ),
    )
    op.create_index(
        op.f("ix_duplicate_match_keys_user_id"), "duplicate_match_keys", ["user_id"], unique=False
    )
    op.create_table(
        "duplicate_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("other_user_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.String(length=400), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_duplicate_pairs_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_duplicate_pairs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_user_id"],
            ["users.id"],
            name=op.f("fk_duplicate_pairs_other_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dismissed_by_id"],
            ["users.id"],
            name=op.f("fk_duplicate_pairs_dismissed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_pairs")),
        sa.UniqueConstraint(
            "organization_id",
            "user_id",
            "other_user_id",
            name=op.f("uq_duplicate_pairs_organization_id_user_id_other_user_id"),
        ),
    )
    op.create_index(
        "ix_duplicate_pairs_list",
        "duplicate_pairs",
        ["organization_id", "dismissed_at", "score", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_duplicate_pairs_other_user_id"), "duplicate_pairs", ["other_user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("duplicate_pairs")
    op.drop_table("duplicate_match_keys")
