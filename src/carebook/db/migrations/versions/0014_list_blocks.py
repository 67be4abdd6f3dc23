"""Patients per block of last names, kept by triggers: deep pages without walking the offset.

A page at offset N in last-name order walked N entries of the sort index (100,000 per request at
offset 100,000). The list is cut into blocks at fixed starts ('', 'A', 'Aa' ... 'zz', 'À' ...):
a block holds the last names at or after its start and before the next one, in the database's
collation, and ``list_blocks`` counts each organization's users per block. A deep page adds up
at most ~1,800 block totals to find the block holding N, seeks its start and skips only within
it (``search/deep_pages.py``). Like ``user_counts`` (migration 0010), database triggers keep the
totals exact in the transaction of every insert, delete and change of ``organization_id``,
``role``, ``last_name`` or ``active``, whatever the write path.

Measured on the 1M benchmark databases (one statement, alone): the page at offset 100,000 of
``last_name_desc`` 2.6 -> 0.4 ms on SQLite and 8.1 -> 0.5 ms on PostgreSQL; at offset 999,999
27 -> 0.2 ms and 95 -> 0.4 ms.

Revision ID: 0014_list_blocks
Revises: 0013_search_tokens_by_shared
"""

from __future__ import annotations

import string

import sqlalchemy as sa
from alembic import op

revision = "0014_list_blocks"
down_revision = "0013_search_tokens_by_shared"
branch_labels = None
depends_on = None

# '' first: every last name is at or after it, so every user has a block. Then each ASCII letter
# alone and followed by a lower-case letter, and each letter of Latin-1 and Latin Extended-A/B
# alone (names such as Østergaard or Łukasiewicz would otherwise all share the last block).
STARTS = (
    [""]
    + [
        first + second
        for first in string.ascii_uppercase + string.ascii_lowercase
        for second in ["", *string.ascii_lowercase]
    ]
    + [chr(code) for code in range(0xC0, 0x250) if chr(code).isalpha()]
)
_BLOCK = (
    "(SELECT start FROM list_block_starts WHERE start <= {row}.last_name"
    " ORDER BY start DESC LIMIT 1)"
)
_KEY = "organization_id = {row}.organization_id AND role = {row}.role AND start = " + _BLOCK
_ADD = f"""INSERT INTO list_blocks (organization_id, role, start, active_total, archived_total)
    VALUES (NEW.organization_id, NEW.role, {_BLOCK.format(row="NEW")},
        CASE WHEN NEW.active THEN 1 ELSE 0 END, CASE WHEN NEW.active THEN 0 ELSE 1 END)
    ON CONFLICT (organization_id, role, start) DO UPDATE SET
        active_total = active_total + excluded.active_total,
        archived_total = archived_total + excluded.archived_total;"""  # noqa: S608 - constant SQL
_REMOVE = f"""UPDATE list_blocks SET
        active_total = active_total - CASE WHEN OLD.active THEN 1 ELSE 0 END,
        archived_total = archived_total - CASE WHEN OLD.active THEN 0 ELSE 1 END
    WHERE {_KEY.format(row="OLD")};"""  # noqa: S608 - constant SQL
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER trg_users_block_insert AFTER INSERT ON users BEGIN\n    {_ADD}\nEND",
    f"CREATE TRIGGER trg_users_block_delete AFTER DELETE ON users BEGIN\n    {_REMOVE}\nEND",
    f"""CREATE TRIGGER trg_users_block_update
AFTER UPDATE OF organization_id, role, last_name, active ON users
WHEN OLD.organization_id IS NOT NEW.organization_id OR OLD.role IS NOT NEW.role
    OR OLD.last_name IS NOT NEW.last_name OR OLD.active IS NOT NEW.active
BEGIN
    {_REMOVE}
    {_ADD}
END""",
)
# PostgreSQL: a change moves one user between two counters; they are locked in the users' key
# order (blocks follow it; the same counter is incremented before it is decremented), so two
# transactions renaming users in opposite directions cannot deadlock. These triggers sort after
# the user_counts ones (PostgreSQL fires them by name), whose row every insert locks first.
_POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION list_block_add(
    p_org integer, p_role varchar, p_name varchar, p_active boolean, p_delta integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d_active integer := CASE WHEN p_active THEN p_delta ELSE 0 END;
    d_archived integer := CASE WHEN p_active THEN 0 ELSE p_delta END;
    p_start varchar := (SELECT start FROM list_block_starts WHERE start <= p_name
        ORDER BY start DESC LIMIT 1);
BEGIN
    INSERT INTO list_blocks (organization_id, role, start, active_total, archived_total)
    VALUES (p_org, p_role, p_start, d_active, d_archived)
    ON CONFLICT (organization_id, role, start) DO UPDATE SET
        active_total = list_blocks.active_total + d_active,
        archived_total = list_blocks.archived_total + d_archived;
END
$$""",
    """CREATE FUNCTION users_block_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM list_block_add(NEW.organization_id, NEW.role, NEW.last_name, NEW.active, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM list_block_add(OLD.organization_id, OLD.role, OLD.last_name, OLD.active, -1);
    ELSIF (OLD.organization_id, OLD.role, OLD.last_name)
            < (NEW.organization_id, NEW.role, NEW.last_name) THEN
        PERFORM list_block_add(OLD.organization_id, OLD.role, OLD.last_name, OLD.active, -1);
        PERFORM list_block_add(NEW.organization_id, NEW.role, NEW.last_name, NEW.active, 1);
    ELSE
        PERFORM list_block_add(NEW.organization_id, NEW.role, NEW.last_name, NEW.active, 1);
        PERFORM list_block_add(OLD.organization_id, OLD.role, OLD.last_name, OLD.active, -1);
    END IF;
    RETURN NULL;
END
$$""",
    """CREATE TRIGGER trg_users_block_insert AFTER INSERT OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION users_block_change()""",
    """CREATE TRIGGER trg_users_block_update
AFTER UPDATE OF organization_id, role, last_name, active ON users
FOR EACH ROW WHEN (OLD.organization_id IS DISTINCT FROM NEW.organization_id
    OR OLD.role IS DISTINCT FROM NEW.role OR OLD.last_name IS DISTINCT FROM NEW.last_name
    OR OLD.active IS DISTINCT FROM NEW.active)
EXECUTE FUNCTION users_block_change()""",
)
_AUTOVACUUM = (
    "autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02,"
    " autovacuum_analyze_scale_factor = 0.02"
)
_RECOUNT = (
    "INSERT INTO list_blocks (organization_id, role, start, active_total, archived_total)"  # noqa: S608 - constant SQL
    " SELECT organization_id, role, block,"
    " SUM(CASE WHEN active THEN 1 ELSE 0 END), SUM(CASE WHEN active THEN 0 ELSE 1 END)"
    f" FROM (SELECT organization_id, role, active, {_BLOCK.format(row='users')} AS block"
    " FROM users) AS placed GROUP BY organization_id, role, block"
)


def upgrade() -> None:
    starts = op.create_table(
        "list_block_starts",
        sa.Column("start", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("start", name=op.f("pk_list_block_starts")),
    )
    op.bulk_insert(starts, [{"start": start} for start in STARTS])
    op.create_table(
        "list_blocks",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("start", sa.String(100), nullable=False),
        sa.Column("active_total", sa.Integer(), nullable=False),
        sa.Column("archived_total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name=op.f("fk_list_blocks_organization_id_organizations"),
        ),
        # SQLite keeps the rows in key order (the walk reads the table itself). No index holds
        # the totals, so PostgreSQL updates them in place (HOT) on every write.
        sa.PrimaryKeyConstraint("organization_id", "role", "start", name=op.f("pk_list_blocks")),
        sqlite_with_rowid=False,
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRESQL_TRIGGERS if postgresql else _SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(_RECOUNT)
    if postgresql:  # the walk is an index-only scan: vacuumed as often as users (0012)
        op.execute(f"ALTER TABLE list_blocks SET ({_AUTOVACUUM})")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "delete", "update"):
        suffix = " ON users" if postgresql else ""
        op.execute(f"DROP TRIGGER IF EXISTS trg_users_block_{name}{suffix}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS users_block_change()")
        op.execute(
            "DROP FUNCTION IF EXISTS list_block_add(integer, varchar, varchar, boolean, integer)"
        )
    op.drop_table("list_blocks")
    op.drop_table("list_block_starts")
