"""Recurring form requests (issue 29): recurring_forms, their recipients, their runs (one row per
occurrence, unique), the scheduler's lease, and requested_form_completions.recurring_form_id.

Revision ID: 0027_recurring_forms
Revises: 0026_appointments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_recurring_forms"
down_revision = "0026_appointments"
branch_labels = None
depends_on = None


def _recurring_forms() -> None:
    op.create_table(
        "recurring_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.String(length=100), nullable=False),
        sa.Column("item_type", sa.String(length=40), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("weekday", sa.String(length=16), nullable=True),
        sa.Column("monthday", sa.String(length=8), nullable=True),
        sa.Column("hour", sa.String(length=4), nullable=True),
        sa.Column("minute", sa.String(length=4), nullable=True),
        sa.Column("period", sa.String(length=4), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("skip_notification_email", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("metadata", sa.String(length=10000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_recurring_forms_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recurring_forms_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurring_forms")),
    )
    op.create_index(
        op.f("ix_recurring_forms_organization_id"), "recurring_forms", ["organization_id"]
    )
    op.create_index(op.f("ix_recurring_forms_next_run_at"), "recurring_forms", ["next_run_at"])


def _recipients() -> None:
    op.create_table(
        "recurring_form_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recurring_form_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_group_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recurring_form_id"],
            ["recurring_forms.id"],
            name=op.f("fk_recurring_form_recipients_recurring_form_id_recurring_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recurring_form_recipients_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_group_id"],
            ["user_groups.id"],
            name=op.f("fk_recurring_form_recipients_user_group_id_user_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurring_form_recipients")),
    )
    for column in ("recurring_form_id", "user_id", "user_group_id"):
        op.create_index(
            op.f(f"ix_recurring_form_recipients_{column}"), "recurring_form_recipients", [column]
        )


def _runs_and_lease() -> None:
    op.create_table(
        "recurring_form_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recurring_form_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recurring_form_id"],
            ["recurring_forms.id"],
            name=op.f("fk_recurring_form_runs_recurring_form_id_recurring_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurring_form_runs")),
        sa.UniqueConstraint(
            "recurring_form_id",
            "due_at",
            name=op.f("uq_recurring_form_runs_recurring_form_id_due_at"),
        ),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )


def upgrade() -> None:
    _recurring_forms()
    _recipients()
    _runs_and_lease()
    with op.batch_alter_table("requested_form_completions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("metadata", sa.String(length=10000), nullable=True))
        batch_op.add_column(sa.Column("recurring_form_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_requested_form_completions_recurring_form_id_recurring_forms"),
            "recurring_forms",
            ["recurring_form_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_requested_form_completions_recurring_form_id"), ["recurring_form_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("requested_form_completions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requested_form_completions_recurring_form_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_requested_form_completions_recurring_form_id_recurring_forms"),
            type_="foreignkey",
        )
        batch_op.drop_column("recurring_form_id")
        batch_op.drop_column("metadata")
    op.drop_table("scheduler_leases")
    op.drop_table("recurring_form_runs")
    op.drop_table("recurring_form_recipients")
    op.drop_table("recurring_forms")
