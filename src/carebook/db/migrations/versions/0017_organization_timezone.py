"""organizations.timezone: the zone an organization's people read date-times in by default.

Healthie writes date-times in the reader's time zone, else their organization's, else UTC
(issue 24, carebook/times.py). Users had a zone; organizations had none. Null keeps today's
answers for a user without one (UTC). A plain nullable ADD COLUMN: in place on both databases.

Revision ID: 0017_organization_timezone
Revises: 0016_open_sign_up
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_organization_timezone"
down_revision = "0016_open_sign_up"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("organizations", sa.Column("timezone", sa.String(64), nullable=True))


def downgrade() -> None:
    # In place on both databases (SQLite since 3.35), as 0016 does: a batch rebuild on SQLite
    # would drop and re-create a table that every other table references.
    op.execute("ALTER TABLE organizations DROP COLUMN timezone")
