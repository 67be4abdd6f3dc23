"""The audit trail: append-only audit events.

Revision ID: 0007_audit_events
Revises: 0006_scheduling

Triggers refuse UPDATE and DELETE of audit rows on both databases, so even raw SQL through the
application's connection cannot rewrite the trail (TRUNCATE and DROP stay with the owner).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_audit_events"
down_revision = "0006_scheduling"
branch_labels = None
depends_on = None

_MESSAGE = "audit events are append-only"

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
    for verb in ("UPDATE", "DELETE")
]

_POSTGRES_FUNCTION = f"""
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

_POSTGRES_TRIGGER = (
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
)


def _create_table() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(20), nullable=True),
        sa.Column("credential", sa.String(20), nullable=True),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("record_type", sa.String(40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_organization_id_occurred_at",
        "audit_events",
        ["organization_id", "occurred_at"],
    )
    op.create_index(
        "ix_audit_events_organization_id_record_id_occurred_at",
        "audit_events",
        ["organization_id", "record_id", "occurred_at"],
    )
    op.create_index(
        "ix_audit_events_organization_id_actor_user_id_occurred_at",
        "audit_events",
        ["organization_id", "actor_user_id", "occurred_at"],
    )


def upgrade() -> None:
    _create_table()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    # Dropping the table drops its triggers on both databases.
    op.drop_table("audit_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_events_append_only()")
