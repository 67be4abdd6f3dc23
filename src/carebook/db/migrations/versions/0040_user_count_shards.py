"""Patient counters in shards on PostgreSQL: creations no longer queue behind one row.

Every new patient adds one to the ``user_counts`` row of (organization, 'patient', active), in
the creating transaction (the triggers of 0010 and 0038), and that row stays locked until the
transaction ends. On PostgreSQL, where writers run side by side, every creation in an
organization therefore waited for the one before it to commit: sampled during ``python -m
bench.probe createClient --database postgresql --quick --workers 2 --concurrency 16``, 265 of
~300 busy backends were waiting on another transaction in ``INSERT INTO users``; a copy of the
database whose trigger left ``user_counts`` alone served 111-118 creations a second against
54-56 (docs/performance.md, "Writes waiting for each other").

Now a counter is the sum of up to 64 rows, one per ``shard``: each backend adds to and takes from
its own (``pg_backend_pid() % 64``), so two connections collide only when their process ids do
modulo 64. A shard may go below zero (a patient created on one connection and deleted on
another); the sum is the count, in every snapshot, as before. Readers already summed
(``search/counting.py``). Lock order is kept: blocks first, then counters in key order, each
backend in its own shard.

SQLite has one writer at a time, so its triggers keep shard 0; the column is there so that both
databases have the same tables.

Revision ID: 0040_user_count_shards
Revises: 0039_duplicate_name_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040_user_count_shards"
down_revision = "0039_duplicate_name_keys"
branch_labels = None
depends_on = None

_KEY = ["organization_id", "role", "active"]
_SHARD = "(pg_backend_pid() % 64)::smallint"


def _add_one(row: str, delta: int, shard: str | None) -> str:
    """Adds ``delta`` to the counter of ``row`` (NEW or OLD), in ``shard`` (None: unsharded)."""
    columns, value, target = ("shard, ", f"{shard}, ", ", shard") if shard else ("", "", "")
    return f"""INSERT INTO user_counts (organization_id, role, active, {columns}total)
        VALUES ({row}.organization_id, {row}.role, {row}.active, {value}{delta})
        ON CONFLICT (organization_id, role, active{target})
        DO UPDATE SET total = user_counts.total + excluded.total;"""  # noqa: S608 - constant SQL


def _add_all(sign: int, rows: str, shard: str | None) -> str:
    """A statement's users of each counter, added (sign 1) or taken (-1), in key order."""
    columns, value, target = ("shard, ", f"{shard}, ", ", shard") if shard else ("", "", "")
    return f"""INSERT INTO user_counts (organization_id, role, active, {columns}total)
    SELECT organization_id, role, active, {value}{sign} * COUNT(*) FROM {rows}
    GROUP BY organization_id, role, active
    ORDER BY organization_id, role, active
    ON CONFLICT (organization_id, role, active{target})
    DO UPDATE SET total = user_counts.total + excluded.total;"""  # noqa: S608 - constant SQL


# The blocks of 0038, unchanged (frozen here: a migration imports no other migration).
_PLACED = (
    "SELECT organization_id, role, active, (SELECT s.start FROM list_block_starts AS s"
    " WHERE s.start <= changed.last_name ORDER BY s.start DESC LIMIT 1) AS start"
    " FROM {rows} AS changed"
)
_BLOCKS = f"""INSERT INTO list_blocks (organization_id, role, start, active_total, archived_total)
    SELECT organization_id, role, start,
        {{sign}} * SUM(CASE WHEN active THEN 1 ELSE 0 END),
        {{sign}} * SUM(CASE WHEN active THEN 0 ELSE 1 END)
    FROM ({_PLACED}) AS placed
    GROUP BY organization_id, role, start
    ORDER BY organization_id, role, start
    ON CONFLICT (organization_id, role, start) DO UPDATE SET
        active_total = list_blocks.active_total + excluded.active_total,
        archived_total = list_blocks.archived_total + excluded.archived_total;"""  # noqa: S608 - constant SQL


def _statement_function(name: str, sign: int, rows: str, shard: str | None) -> str:
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_BLOCKS.format(sign=sign, rows=rows)}
    {_add_all(sign, rows, shard)}
    RETURN NULL;
END
$$"""


def _row_function(shard: str | None) -> str:
    """The row function of 0010 (run by the UPDATE trigger only since 0038), in the same order:
    when OLD was active the increment comes first, so the archived counter is locked first."""
    return f"""CREATE OR REPLACE FUNCTION users_count_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.active) THEN
        {_add_one("NEW", 1, shard)}
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_add_one("OLD", -1, shard)}
    END IF;
    IF TG_OP = 'UPDATE' AND NOT OLD.active THEN
        {_add_one("NEW", 1, shard)}
    END IF;
    RETURN NULL;
END
$$"""


def _postgresql(shard: str | None) -> tuple[str, ...]:
    return (
        _statement_function("users_counters_insert", 1, "inserted_users", shard),
        _statement_function("users_counters_delete", -1, "deleted_users", shard),
        _row_function(shard),
    )


def _sqlite(shard: str | None) -> tuple[str, ...]:
    """SQLite's triggers of 0010 (with ``shard``, always "0": one writer at a time)."""
    column, value, target = (", shard", f", {shard}", ", shard") if shard else ("", "", "")
    mine = f" AND shard = {shard}" if shard else ""
    add = f"""INSERT INTO user_counts (organization_id, role, active{column}, total)
    VALUES (NEW.organization_id, NEW.role, NEW.active{value}, 1)
    ON CONFLICT (organization_id, role, active{target}) DO UPDATE SET total = total + 1;"""  # noqa: S608 - constant SQL
    take = f"""UPDATE user_counts SET total = total - 1 WHERE organization_id = OLD.organization_id
        AND role = OLD.role AND active = OLD.active{mine};"""  # noqa: S608 - constant SQL
    return (
        f"CREATE TRIGGER trg_users_count_insert AFTER INSERT ON users BEGIN\n    {add}\nEND",
        f"CREATE TRIGGER trg_users_count_delete AFTER DELETE ON users BEGIN\n    {take}\nEND",
        f"""CREATE TRIGGER trg_users_count_update
AFTER UPDATE OF organization_id, role, active ON users
WHEN OLD.organization_id IS NOT NEW.organization_id OR OLD.role IS NOT NEW.role
    OR OLD.active IS NOT NEW.active
BEGIN
    {take}
    {add}
END""",
    )


_SQLITE_NAMES = ("trg_users_count_insert", "trg_users_count_delete", "trg_users_count_update")
_RECOUNT = (
    "INSERT INTO user_counts (organization_id, role, active, total)"
    " SELECT organization_id, role, active, COUNT(*) FROM users"
    " GROUP BY organization_id, role, active"
)


def _shard_column() -> sa.Column[int]:
    return sa.Column("shard", sa.SmallInteger(), server_default="0", nullable=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Writes of users wait from here to the commit (reads go on): none runs the old
        # functions against the new key, whose conflict target they would no longer match.
        op.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        op.add_column("user_counts", _shard_column())
        op.drop_constraint("pk_user_counts", "user_counts", type_="primary")
        op.create_primary_key("pk_user_counts", "user_counts", [*_KEY, "shard"])
        for statement in _postgresql(_SHARD):
            op.execute(statement)
        return
    # SQLite copies the table to change its key; the triggers naming it go first and come back
    # with the new conflict target.
    _sqlite_rebuild(add_shard=True)
    for statement in _sqlite("0"):
        op.execute(statement)


def _sqlite_rebuild(*, add_shard: bool) -> None:
    for name in _SQLITE_NAMES:
        op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("user_counts", recreate="always") as batch:
        batch.drop_constraint("pk_user_counts", type_="primary")
        if add_shard:
            batch.add_column(_shard_column())
            batch.create_primary_key("pk_user_counts", [*_KEY, "shard"])
        else:
            batch.drop_column("shard")
            batch.create_primary_key("pk_user_counts", _KEY)


def downgrade() -> None:
    # The counters are counted again, unsharded, while no one writes users (PostgreSQL: until
    # the migration commits; SQLite has one writer).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE users IN SHARE MODE")
        op.execute("DELETE FROM user_counts")
        op.drop_constraint("pk_user_counts", "user_counts", type_="primary")
        op.drop_column("user_counts", "shard")
        op.create_primary_key("pk_user_counts", "user_counts", _KEY)
        for statement in _postgresql(None):
            op.execute(statement)
    else:
        op.execute("DELETE FROM user_counts")
        _sqlite_rebuild(add_shard=False)
        for statement in _sqlite(None):
            op.execute(statement)
    op.execute(_RECOUNT)
