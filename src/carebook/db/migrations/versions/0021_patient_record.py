"""The rest of the patient record integrations read and write (issue 24).

Healthie's ``quick_notes``, ``additional_phone_number``, ``height`` (inches), ``weight``
(pounds), ``human_id`` and the US-reporting demographics (preferred language, race and
ethnicity, sexual orientation and gender identity, each as a code of its code system) become
nullable columns of ``users``. Plain ADD COLUMNs without a default: in place on both databases
(no table rewrite on PostgreSQL, and no rebuild on SQLite, whose batch mode would drop the
triggers of migrations 0010 and 0014).

Revision ID: 0021_patient_record
Revises: 0020_notification_settings
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0021_patient_record"
down_revision = "0020_notification_settings"
branch_labels = None
depends_on = None

# Migrations never import application code: the widths repeat carebook/db/lengths.py.
COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("quick_notes", sa.String(10_000)),
    ("additional_phone_number", sa.String(32)),
    ("height", sa.Float()),
    ("weight", sa.Float()),
    ("human_id", sa.String(100)),
    ("preferred_language_code", sa.String(20)),
    ("primary_race_code", sa.String(20)),
    ("secondary_race_code", sa.String(20)),
    ("primary_ethnicity_code", sa.String(20)),
    ("secondary_ethnicity_code", sa.String(20)),
    ("sexual_orientation_code", sa.String(20)),
    ("sexual_orientation_other", sa.String(200)),
    ("gender_identity_code", sa.String(20)),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("users", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    # Both databases drop a column in place (SQLite since 3.35), as in 0016.
    for name, _type in reversed(COLUMNS):
        op.execute(f"ALTER TABLE users DROP COLUMN {name}")
