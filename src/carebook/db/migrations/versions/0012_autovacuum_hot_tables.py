"""PostgreSQL: vacuum the patient and search tables after 2 % of their rows change, not 20 %.

The patient list, keyword search and counts are index-only scans of covering indexes, which skip
the table only for pages the visibility map marks all-visible. With PostgreSQL's default
thresholds a table of a million patients is vacuumed after about 200,000 changes; until then each
changed page costs a heap fetch. Measured on the 1M benchmark database (EXPLAIN ANALYZE, 5-6 runs
each): after updating 2.5 % of the patients (25,033 rows spread over the table), the page at
offset 100,000 made 90,599 heap fetches and took 210-470 ms; vacuumed (1.1 s), 14-34 ms. With
2 %, autovacuum (when the server runs it, the default) starts within its naptime (a minute) of
such a change. SQLite has no such map: nothing to do there.

Revision ID: 0012_autovacuum_hot_tables
Revises: 0011_search_token_shared
"""

from __future__ import annotations

from alembic import op

revision = "0012_autovacuum_hot_tables"
down_revision = "0011_search_token_shared"
branch_labels = None
depends_on = None

TABLES = ("users", "search_tokens")
SETTINGS = (
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_insert_scale_factor",
    "autovacuum_analyze_scale_factor",
)
SCALE = "0.02"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    values = ", ".join(f"{name} = {SCALE}" for name in SETTINGS)
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET ({values})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(SETTINGS)})")
