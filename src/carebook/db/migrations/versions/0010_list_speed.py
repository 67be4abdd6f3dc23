"""Patient list speed: sort and filter columns on search tokens, maintained user counts.

Revision ID: 0010_list_speed
Revises: 0009_idempotency_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_list_speed"
down_revision = "0009_idempotency_keys"
branch_labels = None
depends_on = None

# Counted per (organization, role, active) by triggers, so that no write path can forget to.
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER trg_users_count_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_counts (organization_id, role, active, total)
    VALUES (NEW.organization_id, NEW.role, NEW.active, 1)
    ON CONFLICT (organization_id, role, active) DO UPDATE SET total = total + 1;
END""",
    """CREATE TRIGGER trg_users_count_delete AFTER DELETE ON users BEGIN
    UPDATE user_counts SET total = total - 1
    WHERE organization_id = OLD.organization_id AND role = OLD.role AND active = OLD.active;
END""",
    """CREATE TRIGGER trg_users_count_update AFTER UPDATE OF organization_id, role, active ON users
WHEN OLD.organization_id IS NOT NEW.organization_id OR OLD.role IS NOT NEW.role
    OR OLD.active IS NOT NEW.active
BEGIN
    UPDATE user_counts SET total = total - 1
    WHERE organization_id = OLD.organization_id AND role = OLD.role AND active = OLD.active;
    INSERT INTO user_counts (organization_id, role, active, total)
    VALUES (NEW.organization_id, NEW.role, NEW.active, 1)
    ON CONFLICT (organization_id, role, active) DO UPDATE SET total = total + 1;
END""",
)
# One function for the three events. Archiving takes the counter of archived users first and
# unarchiving too (increment before decrement when OLD was active), so two transactions moving
# users in opposite directions lock the two rows in the same order and cannot deadlock.
_POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION users_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.active) THEN
        INSERT INTO user_counts (organization_id, role, active, total)
        VALUES (NEW.organization_id, NEW.role, NEW.active, 1)
        ON CONFLICT (organization_id, role, active)
        DO UPDATE SET total = user_counts.total + 1;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE user_counts SET total = total - 1
        WHERE organization_id = OLD.organization_id AND role = OLD.role
            AND active = OLD.active;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT OLD.active THEN
        INSERT INTO user_counts (organization_id, role, active, total)
        VALUES (NEW.organization_id, NEW.role, NEW.active, 1)
        ON CONFLICT (organization_id, role, active)
        DO UPDATE SET total = user_counts.total + 1;
    END IF;
    RETURN NULL;
END
$$""",
    """CREATE TRIGGER trg_users_count_insert AFTER INSERT OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION users_count_change()""",
    """CREATE TRIGGER trg_users_count_update AFTER UPDATE OF organization_id, role, active ON users
FOR EACH ROW WHEN (OLD.organization_id IS DISTINCT FROM NEW.organization_id
    OR OLD.role IS DISTINCT FROM NEW.role OR OLD.active IS DISTINCT FROM NEW.active)
EXECUTE FUNCTION users_count_change()""",
)
_RECOUNT = (
    "INSERT INTO user_counts (organization_id, role, active, total)"
    " SELECT organization_id, role, active, COUNT(*) FROM users"
    " GROUP BY organization_id, role, active"
)
_TOKEN_COPY = {
    "last_name": "SELECT last_name FROM users WHERE users.id = search_tokens.user_id",
    "role": "SELECT role FROM users WHERE users.id = search_tokens.user_id",
    "active": "SELECT active FROM users WHERE users.id = search_tokens.user_id",
}


def upgrade() -> None:
    op.add_column(
        "search_tokens",
        sa.Column("last_name", sa.String(100), server_default="", nullable=False),
    )
    op.add_column(
        "search_tokens",
        sa.Column("role", sa.String(16), server_default="patient", nullable=False),
    )
    op.add_column(
        "search_tokens",
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    assignments = ", ".join(f"{column} = ({query})" for column, query in _TOKEN_COPY.items())
    op.execute(f"UPDATE search_tokens SET {assignments}")  # noqa: S608 - constant SQL
    op.create_index(
        "ix_search_tokens_org_token_sort",
        "search_tokens",
        ["organization_id", "token", "role", "active", "last_name", "user_id"],
    )
    op.create_table(
        "user_counts",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name=op.f("fk_user_counts_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "role", "active", name=op.f("pk_user_counts")),
    )
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRESQL_TRIGGERS if dialect == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(_RECOUNT)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS trg_users_count_{name}" + (" ON users" * postgresql))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS users_count_change()")
    op.drop_table("user_counts")
    op.drop_index("ix_search_tokens_org_token_sort", table_name="search_tokens")
    op.drop_column("search_tokens", "active")
    op.drop_column("search_tokens", "role")
    op.drop_column("search_tokens", "last_name")
