"""Appointments as integrations use them (issue 29): deletion, metadata, video link, location,
confirmations; appointment types can be deleted.

``appointment_locations``: the organization's places of appointments (Healthie's
AppointmentLocation, written through ``updateAppointmentSetting``), referenced by
``appointments.appointment_location_id``.

``appointments.deleted_at`` marks a deleted appointment (``deleteAppointment``), kept for
``appointment(include_deleted: true)``; deleting also sets ``cancelled_at``, which frees the slot
(the unique index and the overlap check look at ``cancelled_at`` only). ``metadata`` is the JSON
value the caller gave, serialized. ``appointment_types.deleted_at``: a deleted type is no longer
listed or bookable, and the appointments of it keep it.

Revision ID: 0026_appointments
Revises: 0025_notes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_appointments"
down_revision = "0025_notes"
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
    op.create_table(
        "appointment_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("clients_can_book", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_appointment_locations_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_locations")),
    )
    op.create_index(
        op.f("ix_appointment_locations_organization_id"),
        "appointment_locations",
        ["organization_id"],
        unique=False,
    )
    # Not batch mode: on SQLite that copies the table, and its partial unique index with it.
    # SQLite adds a column with its named REFERENCES clause in place.
    fk = "fk_appointments_appointment_location_id_appointment_locations"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE appointments ADD COLUMN appointment_location_id INTEGER "
            f"CONSTRAINT {fk} REFERENCES appointment_locations (id)"
        )
    else:
        op.add_column(
            "appointments", sa.Column("appointment_location_id", sa.Integer(), nullable=True)
        )
        op.create_foreign_key(
            fk, "appointments", "appointment_locations", ["appointment_location_id"], ["id"]
        )
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
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(
            op.f("fk_appointments_appointment_location_id_appointment_locations"),
            "appointments",
            type_="foreignkey",
        )
    op.execute("ALTER TABLE appointments DROP COLUMN appointment_location_id")
    op.drop_index(
        op.f("ix_appointment_locations_organization_id"), table_name="appointment_locations"
    )
    op.drop_table("appointment_locations")
