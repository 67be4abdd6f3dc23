"""User groups: case-insensitive unique names and onboarding flows.

Revision ID: 0002_user_groups
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_user_groups"
down_revision = "0001"
branch_labels = None
depends_on = None


def _name_key(name: str) -> str:
    # The rule of carebook.users.validation.name_key, repeated: migrations never import the
    # application, whose rules may change after this migration has run.
    return " ".join(name.split()).casefold()


def _backfill_name_keys() -> None:
    """Give existing groups their name_key; rename case-insensitive duplicates so it is unique.

    Done in Python rather than with SQL lower(): SQLite's lower() folds ASCII letters only.
    """
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, organization_id, name FROM user_groups ORDER BY id"))
    taken: set[tuple[int, str]] = set()
    for group_id, organization_id, name in rows.fetchall():
        key = _name_key(name)
        if (organization_id, key) in taken:
            name = f"{name} ({group_id})"
            key = _name_key(name)
        taken.add((organization_id, key))
        bind.execute(
            sa.text("UPDATE user_groups SET name = :name, name_key = :key WHERE id = :id"),
            {"name": name, "key": key, "id": group_id},
        )


def upgrade() -> None:
    op.create_table(
        "onboarding_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_onboarding_flows_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_flows")),
    )
    with op.batch_alter_table("onboarding_flows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_onboarding_flows_organization_id"), ["organization_id"], unique=False
        )

    with op.batch_alter_table("user_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("onboarding_flow_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_user_groups_onboarding_flow_id_onboarding_flows"),
            "onboarding_flows",
            ["onboarding_flow_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_user_groups_onboarding_flow_id"), ["onboarding_flow_id"], unique=False
        )

    _backfill_name_keys()

    with op.batch_alter_table("user_groups", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_index(
            "uq_user_groups_name_key", ["organization_id", "name_key"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("user_groups", schema=None) as batch_op:
        batch_op.drop_index("uq_user_groups_name_key")
        batch_op.drop_index(batch_op.f("ix_user_groups_onboarding_flow_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_user_groups_onboarding_flow_id_onboarding_flows"), type_="foreignkey"
        )
        batch_op.drop_column("onboarding_flow_id")
        batch_op.drop_column("name_key")

    with op.batch_alter_table("onboarding_flows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onboarding_flows_organization_id"))

    op.drop_table("onboarding_flows")
