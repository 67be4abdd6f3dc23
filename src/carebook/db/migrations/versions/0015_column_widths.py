"""String columns as wide as their validation allows.

Validation accepted 200 characters of ``pronouns``, ``gender``, ``sex`` (columns of 50) and of
``preferred_name``, ``gender_identity``, ``additional_record_identifier`` (100), and group and
flow names of 200 characters whose case-folded ``name_key`` can be three times as long ('ΐ'
folds to three characters): PostgreSQL refused such valid input with an error, SQLite stored
it. The columns now hold what validation allows (``carebook/db/lengths.py``).

PostgreSQL widens a VARCHAR in place (no rewrite, no index rebuild). SQLite ignores the declared
width of a column (a VARCHAR holds text of any length), so nothing changes there: rebuilding
``users`` with ``batch_alter_table`` would drop its triggers (migrations 0010 and 0014), and
editing ``sqlite_master`` (``PRAGMA writable_schema``) fails on SQLite builds in defensive mode.
``alembic check`` ignores VARCHAR widths on SQLite only (``compare_type`` in the migrations'
env.py). A database that ran an earlier version of this migration on SQLite, which did edit the
schema text, is equally right.

Revision ID: 0015_column_widths
Revises: 0014_list_blocks
"""

from __future__ import annotations

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


def _change(*, upgrade: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":  # widths mean nothing there (see above)
        return
    for table, columns in WIDTHS.items():
        _postgresql(table, columns, upgrade=upgrade)


def upgrade() -> None:
    _change(upgrade=True)


def downgrade() -> None:
    _change(upgrade=False)
