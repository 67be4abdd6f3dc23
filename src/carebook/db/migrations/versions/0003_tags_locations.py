"""Tags, taggings and locations.

Revision ID: 0003_tags_locations
Revises: 0002_user_groups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_tags_locations"
down_revision = "0002_user_groups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_tags_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_tags_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        # Tag names are unique per provider/staff account (case-insensitively, via name_key).
        sa.UniqueConstraint("user_id", "name_key", name=op.f("uq_tags_user_id_name_key")),
    )
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tags_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tags_user_id"), ["user_id"], unique=False)

    op.create_table(
        "taggings",
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_taggings_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_taggings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tag_id", "user_id", name=op.f("pk_taggings")),
    )
    with op.batch_alter_table("taggings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taggings_user_id"), ["user_id"], unique=False)

    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("line1", sa.String(length=200), nullable=True),
        sa.Column("line2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("zip", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.Column("other_id", sa.String(length=50), nullable=True),
        sa.Column("other_id_qual", sa.String(length=50), nullable=True),
        sa.Column("place_of_service_id", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_locations_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_locations_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_locations_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_locations_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locations_user_id"))
        batch_op.drop_index(batch_op.f("ix_locations_organization_id"))

    op.drop_table("locations")
    with op.batch_alter_table("taggings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taggings_user_id"))

    op.drop_table("taggings")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tags_user_id"))
        batch_op.drop_index(batch_op.f("ix_tags_organization_id"))

    op.drop_table("tags")
