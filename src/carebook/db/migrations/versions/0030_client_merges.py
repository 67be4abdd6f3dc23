"""mergeClients and unmergeClients (issue 26): the merge log and the merged patient's pointer.

``client_merges`` holds one row per merge (who, into whom, when, undone when, the merged
patients' own columns as they were); ``client_merge_rows`` each row the merge moved to the
target, by table, column and primary key, so that unmergeClients moves back exactly those.
``users.merged_into_id`` points an archived, merged patient at the patient they were merged
into: a plain ADD COLUMN, in place on both databases (no SQLite rebuild, which would drop the
triggers of migrations 0010 and 0014).

Revision ID: 0030_client_merges
Revises: 0029_duplicate_pairs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_client_merges"
down_revision = "0029_duplicate_pairs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unmerged_by_id", sa.Integer(), nullable=True),
        sa.Column("unmerged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("users_before", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_client_merges_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["users.id"], name=op.f("fk_client_merges_target_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["merged_by_id"],
            ["users.id"],
            name=op.f("fk_client_merges_merged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unmerged_by_id"],
            ["users.id"],
            name=op.f("fk_client_merges_unmerged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_merges")),
    )
    with op.batch_alter_table("client_merges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_merges_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_client_merges_target_id"), ["target_id"], unique=False)

    op.create_table(
        "client_merge_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merge_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["merge_id"],
            ["client_merges.id"],
            name=op.f("fk_client_merge_rows_merge_id_client_merges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_merge_rows")),
    )
    with op.batch_alter_table("client_merge_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_merge_rows_merge_id"), ["merge_id"], unique=False
        )

    _add_pointer()


def _add_pointer() -> None:
    """users.merged_into_id with its foreign key, in place: SQLite takes the constraint in the
    column's definition (it has no ALTER ... ADD CONSTRAINT), PostgreSQL as its own statement."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE users ADD COLUMN merged_into_id INTEGER "
            "CONSTRAINT fk_users_merged_into_id_users REFERENCES users (id)"
        )
        return
    op.add_column("users", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_users_merged_into_id_users"), "users", "users", ["merged_into_id"], ["id"]
    )


def downgrade() -> None:
    # Both databases drop a column in place (SQLite since 3.35), as in 0021.
    op.execute("ALTER TABLE users DROP COLUMN merged_into_id")
    op.drop_table("client_merge_rows")
    op.drop_table("client_merges")
