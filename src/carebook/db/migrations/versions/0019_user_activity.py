"""users.last_sign_in_at, last_active_at, last_activity_at: when a user signed in and used
the account (Healthie's User.last_sign_in_at, last_active, last_activity, accessed_account).

Nullable columns without a default: added in place on PostgreSQL and SQLite, no table rewrite.
Existing users have never been seen signing in, so they start empty.

Revision ID: 0019_user_activity
Revises: 0017_organization_timezone
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_user_activity"
down_revision = "0017_organization_timezone"
branch_labels = None
depends_on = None

COLUMNS = ("last_sign_in_at", "last_active_at", "last_activity_at")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("users", sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Both databases drop a column in place (SQLite since 3.35); a batch rebuild on SQLite would
    # drop and re-create a table that every other table references.
    for name in reversed(COLUMNS):
        op.execute(f"ALTER TABLE users DROP COLUMN {name}")
