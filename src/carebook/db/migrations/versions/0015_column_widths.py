"""String columns as wide as their validation allows (filled in by the column-widths change).

Revision ID: 0015_column_widths
Revises: 0014_list_blocks
"""

from __future__ import annotations

revision = "0015_column_widths"
down_revision = "0014_list_blocks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: reserved so that later migrations can chain after it."""


def downgrade() -> None:
    """Nothing yet."""
