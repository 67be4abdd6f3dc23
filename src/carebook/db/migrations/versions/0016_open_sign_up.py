"""organizations.open_sign_up: whether patients may sign up by naming a provider.

Anonymous ``signUp(dietitian_id:)`` let anyone join any practice by a provider's sequential id
(issue 22). A practice can now turn that off, so patients join only with an invite code or are
added by staff. Existing practices keep today's behaviour (on). A plain ADD COLUMN with a
constant default: in place on PostgreSQL (no table rewrite since PostgreSQL 11) and on SQLite.

Revision ID: 0016_open_sign_up
Revises: 0015_column_widths
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_open_sign_up"
down_revision = "0015_column_widths"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column("open_sign_up", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    # Both databases drop a column in place (SQLite since 3.35); a batch rebuild on SQLite would
    # drop and re-create a table that every other table references.
    op.execute("ALTER TABLE organizations DROP COLUMN open_sign_up")
