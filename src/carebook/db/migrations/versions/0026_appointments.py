"""Appointments as integrations use them (issue 29): deletion, metadata, video link, location,
confirmations; appointment types can be deleted.

``appointments.deleted_at`` marks a deleted appointment (``deleteAppointment``), kept for
``appointment(include_deleted: true)``; deleting also sets ``cancelled_at``, which frees the slot
(the unique index and the overlap check look at ``cancelled_at`` only). ``metadata`` is the JSON
value the caller gave, serialized. ``appointment_types.deleted_at``: a deleted type is no longer
listed or bookable, and the appointments of it keep it.

Revision ID: 0026_appointments
Revises: 0023_events_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_appointments"
down_revision = "0023_events_webhooks"
branch_labels = None
depends_on = None

APPOINTMENT_COLUMNS = (
    ("deleted_at", sa.DateTime(timezone=True)),
    ("metadata", sa.String(10_000)),
    ("external_videochat_url", sa.String(2_000)),
    ("location", sa.String(200)),
    ("client_confirmed", sa.Boolean()),
    ("confirmed", sa.Boolean()),
)


def upgrade() -> None:
    for name, type_ in APPOINTMENT_COLUMNS:
        op.add_column("appointments", sa.Column(name, type_, nullable=True))
    op.add_column(
        "appointment_types", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # Both databases drop a column in place (SQLite since 3.35), as in 0016.
    op.execute("ALTER TABLE appointment_types DROP COLUMN deleted_at")
    for name, _type in reversed(APPOINTMENT_COLUMNS):
        op.execute(f'ALTER TABLE appointments DROP COLUMN "{name}"')
