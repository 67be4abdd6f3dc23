"""When a care-team member or a recurring request's recipient was made (issue 26's fixes).

unmergeClients moves back a row the merge moved only while it is that same row: made before
the merge. Every other moved table has ``created_at``; ``care_team_members`` had only its
composite primary key, which a member removed and added again since the merge repeats, and
``recurring_form_recipients`` an id SQLite may give again. Rows made before this migration keep
a null ``created_at`` (older than any merge made after it). A plain ADD COLUMN, in place on
both databases.

Revision ID: 0032_merge_fixes
Revises: 0031_form_schedule_fixes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_merge_fixes"
down_revision = "0031_form_schedule_fixes"
branch_labels = None
depends_on = None


TABLES = ("care_team_members", "recurring_form_recipients")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("created_at")
