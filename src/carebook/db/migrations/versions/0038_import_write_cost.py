"""What a new patient costs PostgreSQL: counters once per statement, one token index fewer.

Measured on a 100,000-patient copy, server CPU of one import batch of 1,000 new patients
(docs/performance.md, Patient import): the users' INSERT 142 ms, their search tokens 306 ms,
their blocking keys 118 ms. Two causes this migration removes:

**Counters per statement (PostgreSQL).** The row triggers of migrations 0010 and 0014 ran two
PL/pgSQL calls and two upserts for each inserted user: a batch of 1,000 updated the same
``user_counts`` row and the same few ``list_blocks`` rows a thousand times each. Statement-level
triggers with a transition table (``REFERENCING NEW TABLE``) add a statement's users up by
counter and write each counter once. Only INSERT and DELETE move to the statement: an UPDATE
trigger with a transition table can have neither a column list nor a WHEN condition, so it would
run (and copy the old and new rows) on every UPDATE of users, such as each request's activity
stamp; the row triggers of 0010 and 0014 keep counting the updates that move a user between
counters. SQLite has no statement-level triggers: its row triggers stay. Locks: the blocks
first, then the role/status counters, each in key order, the order in which the row triggers of
an UPDATE take them (``trg_users_block_*`` fires before ``trg_users_count_*``, by name; blocks in
the users' key order; ``active`` false before true), so concurrent writers of users wait for
each other instead of deadlocking.

**Search tokens: primary key (user_id, token), no foreign key to organizations (both
databases).** Each token row went into four B-trees and was checked against two parents. The
primary key (organization_id, token, user_id) served no read (``ix_search_tokens_org_token_sort``
starts with the same columns and covers every search), and ``ix_search_tokens_user_id_token``
(re-indexing a user, the cascade of a deleted user) was unique in fact: it becomes the primary
key, one index fewer. The foreign key to organizations checked each of a patient's tokens
against the same organization row (an eighth of the tokens' INSERT's server CPU on PostgreSQL;
the two changes together a quarter: 250 -> 190 ms for 15,000 tokens) and protected
nothing the user's own foreign key does not: a token belongs to a user, the user to the
organization, and an organization with users cannot be deleted (``users.organization_id`` has no
cascade). ``duplicate_match_keys`` holds its ``organization_id`` the same way, without a
foreign key.

Revision ID: 0038_import_write_cost
Revises: 0037_pending_deliveries_index
"""

from __future__ import annotations

from alembic import op

revision = "0038_import_write_cost"
down_revision = "0037_pending_deliveries_index"
branch_labels = None
depends_on = None

# The block of each user of a transition table, as 0014 places one user.
_PLACED = (
    "SELECT organization_id, role, active, (SELECT s.start FROM list_block_starts AS s"
    " WHERE s.start <= changed.last_name ORDER BY s.start DESC LIMIT 1) AS start"
    " FROM {rows} AS changed"
)
# Each block's users of the statement, added to (sign 1) or taken from (sign -1) its totals.
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
_FUNCTIONS = (
    f"""CREATE FUNCTION users_counters_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_BLOCKS.format(sign=1, rows="inserted_users")}
    INSERT INTO user_counts (organization_id, role, active, total)
    SELECT organization_id, role, active, COUNT(*) FROM inserted_users
    GROUP BY organization_id, role, active
    ORDER BY organization_id, role, active
    ON CONFLICT (organization_id, role, active)
    DO UPDATE SET total = user_counts.total + excluded.total;
    RETURN NULL;
END
$$""",  # noqa: S608 - constant SQL
    # A deleted user's counter exists (its insert made it): an UPDATE, as 0010's trigger did,
    # one counter at a time in key order.
    f"""CREATE FUNCTION users_counters_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    counted record;
BEGIN
    {_BLOCKS.format(sign=-1, rows="deleted_users")}
    FOR counted IN
        SELECT organization_id, role, active, COUNT(*) AS total FROM deleted_users
        GROUP BY organization_id, role, active
        ORDER BY organization_id, role, active
    LOOP
        UPDATE user_counts SET total = total - counted.total
        WHERE organization_id = counted.organization_id AND role = counted.role
            AND active = counted.active;
    END LOOP;
    RETURN NULL;
END
$$""",  # noqa: S608 - constant SQL
)
_TRIGGERS = (
    """CREATE TRIGGER trg_users_counters_insert AFTER INSERT ON users
REFERENCING NEW TABLE AS inserted_users
FOR EACH STATEMENT EXECUTE FUNCTION users_counters_insert()""",
    """CREATE TRIGGER trg_users_counters_delete AFTER DELETE ON users
REFERENCING OLD TABLE AS deleted_users
FOR EACH STATEMENT EXECUTE FUNCTION users_counters_delete()""",
)
# The row triggers of 0010 and 0014 for INSERT and DELETE (their functions stay: the UPDATE
# triggers run them).
_ROW_TRIGGERS = (
    """CREATE TRIGGER trg_users_count_insert AFTER INSERT OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION users_count_change()""",
    """CREATE TRIGGER trg_users_block_insert AFTER INSERT OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION users_block_change()""",
)


_TOKENS = "search_tokens"
_ORGANIZATION_KEY = "fk_search_tokens_organization_id_organizations"
_BY_USER = "ix_search_tokens_user_id_token"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # The tokens' new key first (seconds at a million patients, search_tokens locked), the
        # triggers last: users is then locked from the DROP TRIGGER to the commit only.
        op.drop_constraint(_ORGANIZATION_KEY, _TOKENS, type_="foreignkey")
        op.drop_constraint("pk_search_tokens", _TOKENS, type_="primary")
        op.create_primary_key("pk_search_tokens", _TOKENS, ["user_id", "token"])
        op.drop_index(_BY_USER, table_name=_TOKENS)
        # In the migration's transaction, under its lock of users: no write falls between the
        # old triggers and the new ones, so the counters stay exact without a recount.
        op.execute("DROP TRIGGER trg_users_count_insert ON users")
        op.execute("DROP TRIGGER trg_users_block_insert ON users")
        for statement in (*_FUNCTIONS, *_TRIGGERS):
            op.execute(statement)
        return
    # SQLite changes a key by copying the table (it has no triggers to lose).
    with op.batch_alter_table(_TOKENS, recreate="always") as batch:
        batch.drop_constraint(_ORGANIZATION_KEY, type_="foreignkey")
        batch.drop_constraint("pk_search_tokens", type_="primary")
        batch.create_primary_key("pk_search_tokens", ["user_id", "token"])
        batch.drop_index(_BY_USER)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.create_index(_BY_USER, _TOKENS, ["user_id", "token"])
        op.drop_constraint("pk_search_tokens", _TOKENS, type_="primary")
        op.create_primary_key("pk_search_tokens", _TOKENS, ["organization_id", "token", "user_id"])
        op.create_foreign_key(
            _ORGANIZATION_KEY, _TOKENS, "organizations", ["organization_id"], ["id"],
            ondelete="CASCADE",
        )  # fmt: skip
        for name in ("insert", "delete"):
            op.execute(f"DROP TRIGGER trg_users_counters_{name} ON users")
            op.execute(f"DROP FUNCTION users_counters_{name}()")
        for statement in _ROW_TRIGGERS:
            op.execute(statement)
        return
    with op.batch_alter_table(_TOKENS, recreate="always") as batch:
        batch.drop_constraint("pk_search_tokens", type_="primary")
        batch.create_primary_key("pk_search_tokens", ["organization_id", "token", "user_id"])
        batch.create_foreign_key(
            _ORGANIZATION_KEY, "organizations", ["organization_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index(_BY_USER, ["user_id", "token"])
