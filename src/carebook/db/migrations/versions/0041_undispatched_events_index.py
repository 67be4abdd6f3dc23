"""The events not yet fanned out to the webhooks, in a partial index of their own.

Fan-out claims the oldest events whose ``dispatched`` is false. The index it had, (dispatched,
id), served SQLite, but PostgreSQL used no index for the claim's ``dispatched IS false`` and
walked the events from the oldest, dispatched ones included: 155 ms a claim at 300,000 events
(issue 28), and events are kept for the retention period. The claim now says ``dispatched =
false`` and this index holds only those rows, in id order; it is near empty whenever delivery
keeps up, so it also costs writes less than the two-column index it replaces.

Revision ID: 0041_undispatched_events_index
Revises: 0040_user_count_shards
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041_undispatched_events_index"
down_revision = "0040_user_count_shards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_events_undispatched",
        "events",
        ["id"],
        postgresql_where=sa.text("dispatched = false"),
        sqlite_where=sa.text("dispatched = 0"),
    )
    op.drop_index("ix_events_dispatched_id", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_dispatched_id", "events", ["dispatched", "id"])
    op.drop_index("ix_events_undispatched", table_name="events")
