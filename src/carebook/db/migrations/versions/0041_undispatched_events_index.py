"""The events not yet fanned out to the webhooks, in a partial index of their own.

Fan-out claims the oldest events whose ``dispatched`` is false. With the index it had,
(dispatched, id), PostgreSQL's plan depended on its statistics: taken while many events waited
(a burst of writes; this bench machine runs without autovacuum), they made walking the primary
key from the oldest event and filtering out the dispatched ones look cheapest, and a claim took
154 ms at 320,000 events (issue 28); events are kept for the retention period. This index
holds only the waiting rows, in id order, so reading it is the cheapest plan whatever the
statistics say; it is near empty whenever delivery keeps up, so it also costs writes less than
the two-column index it replaces. The claim says ``dispatched = false`` (PostgreSQL does not
prove the index's predicate from ``IS false``).

On PostgreSQL the CREATE INDEX holds writes to ``events`` (every write that emits an event)
while it reads the table once: 74 ms at 507,474 events on the bench machine (table cached),
so seconds at tens of millions; run the upgrade in a quiet moment on a large installation.

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
