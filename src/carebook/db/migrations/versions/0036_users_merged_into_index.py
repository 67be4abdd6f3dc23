"""An index on ``users.merged_into_id``, the self-reference of a merged patient (0030).

Without it, deleting a user made SQLite's foreign-key check (and PostgreSQL's) scan the whole
``users`` table for patients merged into them: quadratic when many users go at once (the test
fixture's emptying after the 100,000-row import sat in ``DELETE FROM users`` for minutes).

Revision ID: 0036_users_merged_into_index
Revises: 0035_scheduled_notes
"""

from __future__ import annotations

from alembic import op

revision = "0036_users_merged_into_index"
down_revision = "0035_scheduled_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_merged_into_id", "users", ["merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_users_merged_into_id", table_name="users")
