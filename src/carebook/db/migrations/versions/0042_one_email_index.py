"""Users' emails in one index instead of three.

A patient's email key sat in two indexes (``ix_users_email_key`` and the partial unique
``uq_users_patient_email``), a provider's or staff member's in two (``ix_users_email_key`` and
``uq_users_staff_email``). Email keys fall on random pages of an index, and on PostgreSQL an
UPDATE that is not HOT (every bulkUpdateClients move: ``user_group_id`` is indexed) adds the
row to every index again: a move of 1,000 patients rewrote about 2,000 random pages of these
two indexes (and wrote each whole into the WAL after a checkpoint). One unique index on
(email_key, the owner: the patient's organization, or 0 for providers and staff) keeps both
rules (a patient's email unique in the organization, a provider's or staff member's
everywhere, a patient and a staff member may share one) and serves every look-up by email,
whatever the role. Measured on the bench's 1,000,000 patients (docs/performance.md,
"bulkUpdateClients and the email indexes"): a move's median in full runs 109.9 / 102.5 ->
98.6 / 93.1 ms, alternated.

On PostgreSQL the CREATE INDEX holds writes to ``users`` while it reads the table once (about
a second at 1,000,000 users on the bench machine, cached); run the upgrade in a quiet moment.
Existing rows already obey both rules, so the unique index builds on any database the earlier
indexes allowed (no organization has the id 0, which the index gives providers and staff: ids
start at 1 on both databases). Alembic cannot compare an index on an expression on SQLite: a
later migration that rebuilds ``users`` in batch mode must make this index again
(tests/users/test_email_index.py reads its definition back on both databases).

Revision ID: 0042_one_email_index
Revises: 0041_undispatched_events_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042_one_email_index"
down_revision = "0041_undispatched_events_index"
branch_labels = None
depends_on = None

# As the model states it (users/models.py, EMAIL_OWNER): the same text, so that the check of
# the models against the database finds the index the migration made.
_OWNER = sa.text("(\nCASE\n    WHEN role = 'patient' THEN organization_id\n    ELSE 0\nEND)")
_HAS_EMAIL = sa.text("email_key IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "uq_users_email",
        "users",
        ["email_key", _OWNER],
        unique=True,
        sqlite_where=_HAS_EMAIL,
        postgresql_where=_HAS_EMAIL,
    )
    op.drop_index("uq_users_staff_email", table_name="users")
    op.drop_index("uq_users_patient_email", table_name="users")
    op.drop_index("ix_users_email_key", table_name="users")


def downgrade() -> None:
    op.create_index("ix_users_email_key", "users", ["email_key"])
    for name, columns, role in (
        ("uq_users_patient_email", ["organization_id", "email_key"], "role = 'patient'"),
        ("uq_users_staff_email", ["email_key"], "role <> 'patient'"),
    ):
        where = sa.text(f"{role} AND email_key IS NOT NULL")
        op.create_index(
            name, "users", columns, unique=True, sqlite_where=where, postgresql_where=where
        )
    op.drop_index("uq_users_email", table_name="users")
