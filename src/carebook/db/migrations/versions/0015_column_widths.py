"""String columns as wide as their validation allows.

Validation accepted 200 characters of ``pronouns``, ``gender``, ``sex`` (columns of 50) and of
``preferred_name``, ``gender_identity``, ``additional_record_identifier`` (100), and group and
flow names of 200 characters whose case-folded ``name_key`` can be three times as long ('ΐ'
folds to three characters): PostgreSQL refused such valid input with an error, SQLite stored
it. The columns now hold what validation allows (``carebook/db/lengths.py``).

PostgreSQL widens a VARCHAR in place (no rewrite, no index rebuild). SQLite ignores the declared
width of a column, and ``batch_alter_table`` would rebuild ``users`` and drop its triggers
(migrations 0010 and 0014), so on SQLite only the declared type in the schema text changes, by
the procedure SQLite documents for changes that leave the stored content as it is
(https://sqlite.org/lang_altertable.html#otheralter): both types have TEXT affinity.

Revision ID: 0015_column_widths
Revises: 0014_list_blocks
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0015_column_widths"
down_revision = "0014_list_blocks"
branch_labels = None
depends_on = None

# table -> column -> (width before, width after)
WIDTHS: dict[str, dict[str, tuple[int, int]]] = {
    "users": {
        "preferred_name": (100, 200),
        "pronouns": (50, 200),
        "gender": (50, 200),
        "gender_identity": (100, 200),
        "sex": (50, 200),
        "additional_record_identifier": (100, 200),
    },
    "user_groups": {"name_key": (200, 600)},
    "onboarding_flows": {"name_key": (200, 600)},
}


def _postgresql(table: str, columns: dict[str, tuple[int, int]], *, upgrade: bool) -> None:
    for column, (before, after) in columns.items():
        old, new = (before, after) if upgrade else (after, before)
        # Narrowing back fails (rather than cutting data) while a longer value is stored.
        op.alter_column(table, column, existing_type=sa.String(old), type_=sa.String(new))


def _sqlite(table: str, columns: dict[str, tuple[int, int]], *, upgrade: bool) -> None:
    bind = op.get_bind()
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar_one()
    for column, (before, after) in columns.items():
        old, new = (before, after) if upgrade else (after, before)
        # The column's definition starts a line: "\n\t<name> VARCHAR(<width>)".
        pattern = re.compile(rf'(\n\s*"?{column}"?\s+)VARCHAR\({old}\)', re.IGNORECASE)
        sql, found = pattern.subn(rf"\g<1>VARCHAR({new})", sql)
        if found != 1:
            raise RuntimeError(f"{table}.{column} is not VARCHAR({old}) in the schema")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": sql, "name": table},
    )
    # A new schema version makes every connection, this one included, re-read the schema.
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def _change(*, upgrade: bool) -> None:
    change = _sqlite if op.get_bind().dialect.name == "sqlite" else _postgresql
    for table, columns in WIDTHS.items():
        change(table, columns, upgrade=upgrade)


def upgrade() -> None:
    _change(upgrade=True)


def downgrade() -> None:
    _change(upgrade=False)
