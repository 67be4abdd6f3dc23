"""Search tokens: the prefix each shares with the user's previous token, for DISTINCT-free counts.

Revision ID: 0011_search_token_shared
Revises: 0010_list_speed
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_search_token_shared"
down_revision = "0010_list_speed"
branch_labels = None
depends_on = None

_INDEX = "ix_search_tokens_org_token_sort"
_COLUMNS = ["organization_id", "token", "role", "active", "last_name", "user_id"]
_BATCH = 5000
# Walks the tokens in (user, token) order on ix_search_tokens_user_id_token, a batch at a time.
_NEXT = sa.text(
    "SELECT organization_id, user_id, token FROM search_tokens"
    " WHERE user_id > :user_id OR (user_id = :user_id AND token > :token)"
    " ORDER BY user_id, token LIMIT :batch"
)
_SET = sa.text(
    "UPDATE search_tokens SET shared = :shared"
    " WHERE organization_id = :organization_id AND token = :token AND user_id = :user_id"
)


def _shared_length(a: str, b: str) -> int:
    pairs = enumerate(zip(a, b, strict=False))
    return next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))


def _backfill(connection: sa.Connection) -> None:
    """``shared`` of every existing row (the same rule as carebook.search.text.shared_prefixes).

    Copied here rather than imported: a migration must keep doing what it did when written.
    """
    user_id, token = 0, ""
    while True:
        params = {"user_id": user_id, "token": token, "batch": _BATCH}
        rows = connection.execute(_NEXT, params).all()
        if not rows:
            return
        updates = []
        for organization_id, row_user, row_token in rows:
            previous = token if row_user == user_id else ""
            shared = _shared_length(previous, row_token)
            if shared:
                updates.append(
                    {
                        "shared": shared,
                        "organization_id": organization_id,
                        "token": row_token,
                        "user_id": row_user,
                    }
                )
            user_id, token = row_user, row_token
        if updates:
            connection.execute(_SET, updates)


def upgrade() -> None:
    op.add_column(
        "search_tokens",
        sa.Column("shared", sa.SmallInteger(), server_default="0", nullable=False),
    )
    _backfill(op.get_bind())
    op.drop_index(_INDEX, table_name="search_tokens")
    op.create_index(_INDEX, "search_tokens", [*_COLUMNS, "shared"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="search_tokens")
    op.create_index(_INDEX, "search_tokens", _COLUMNS)
    op.drop_column("search_tokens", "shared")
