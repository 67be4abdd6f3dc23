"""applied_tags (each application of a tag, kept after removal) and password_reset_tokens.

``applied_tags`` gives every tag applied to a user its own id, creation time and the account
that applied it, as Healthie's ``AppliedTag`` reads them, and keeps a removed one (soft delete)
for ``appliedTag(include_deleted: true)``. ``taggings`` stays the live set the patient list
filters on. Existing taggings are copied in, with their creation time and no known applier.

``password_reset_tokens`` holds the links of ``resetPassword``: a nonce and the token's digest.

Revision ID: 0022_applied_tags_resets
Revises: 0021_patient_record
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_applied_tags_resets"
down_revision = "0021_patient_record"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applied_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_applied_tags_tag_id_tags"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_applied_tags_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["applied_by_id"], ["users.id"], name=op.f("fk_applied_tags_applied_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applied_tags")),
    )  # fmt: skip
    with op.batch_alter_table("applied_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applied_tags_tag_id"), ["tag_id"], unique=False)
        batch_op.create_index("ix_applied_tags_user_id_tag_id", ["user_id", "tag_id"], unique=False)
        # Integrations poll appliedTags(updated_after:): the newest rows, found without a scan.
        batch_op.create_index("ix_applied_tags_updated_at", ["updated_at"], unique=False)
    # Every live tagging gets its record; the order gives older applications smaller ids.
    op.execute(
        "INSERT INTO applied_tags (tag_id, user_id, created_at, updated_at) "
        "SELECT tag_id, user_id, created_at, created_at FROM taggings "
        "ORDER BY created_at, tag_id, user_id"
    )

    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_reset_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_password_reset_tokens_token_digest")),
    )  # fmt: skip
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_password_reset_tokens_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_reset_tokens_user_id"))
    op.drop_table("password_reset_tokens")
    with op.batch_alter_table("applied_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_applied_tags_updated_at")
        batch_op.drop_index("ix_applied_tags_user_id_tag_id")
        batch_op.drop_index(batch_op.f("ix_applied_tags_tag_id"))
    op.drop_table("applied_tags")
