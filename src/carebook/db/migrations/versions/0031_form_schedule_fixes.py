"""Recurring form fixes (issue 29): a failing form's retry, and skipped occurrences.

``recurring_forms.retry_at`` and ``failed_attempts``: after an occurrence fails, the scheduler
leaves that form until ``retry_at`` (backing off), so broken forms never take every slot of a
pass. ``recurring_form_runs.skipped``: an occurrence missed while every server was down and
passed over (only the latest missed one is sent). Plain ADD COLUMNs, in place on both
databases (no SQLite rebuild).

Revision ID: 0031_form_schedule_fixes
Revises: 0030_client_merges
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031_form_schedule_fixes"
down_revision = "0030_client_merges"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("recurring_forms", sa.Column("retry_at", sa.DateTime(timezone=True)))
    op.add_column(
        "recurring_forms",
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "recurring_form_runs",
        sa.Column("skipped", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("recurring_form_runs") as batch_op:
        batch_op.drop_column("skipped")
    with op.batch_alter_table("recurring_forms") as batch_op:
        batch_op.drop_column("failed_attempts")
        batch_op.drop_column("retry_at")
