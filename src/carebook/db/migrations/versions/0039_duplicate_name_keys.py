"""The duplicate matcher's name tallies in a table of their own, backfilled from the patients.

One row per active patient: (user, organization, name tally), the tally a hash of both names'
phonetic keys (carebook/duplicates/keys.py). Counting an organization's rows of a tally says how
many of its patients share those names; the index (organization, key) answers that alone.

The backfill is set-based, so an upgraded database counts right at once (no ``carebook
duplicates reindex`` needed) and a million patients take seconds: the phonetic key is Python's
(Metaphone, accents folded), so Python computes it once per distinct name and the tally once per
distinct pair of phonetic keys, into temporary tables; one INSERT ... SELECT joins them to the
patients. Like every migration it imports no application code: the tally below is a frozen copy
of duplicates/keys.py's ``tally_of`` as of this revision (tests/db/test_migration_0039.py checks
they agree).

Revision ID: 0039_duplicate_name_keys
Revises: 0038_import_write_cost
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from typing import Any

import jellyfish
import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision = "0039_duplicate_name_keys"
down_revision = "0038_import_write_cost"
branch_labels = None
depends_on = None

BATCH = 5000
# The patients who have a name tally (duplicates/index.py: active patients only) are those of
# "u.role = 'patient' AND u.active = :active" in each statement below.
_CODES = sa.table("tmp_name_codes", sa.column("name"), sa.column("code"))
_TALLIES = sa.table(
    "tmp_name_tallies", sa.column("first_code"), sa.column("last_code"), sa.column("tally")
)


def upgrade() -> None:
    op.create_table(
        "duplicate_name_keys",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    connection = op.get_bind()
    # Tallies an unreleased build kept among the blocking keys, under the organization's id
    # negated: a database that ran it would otherwise keep them for good (the primary key,
    # organization first, finds them without a walk of the keys).
    connection.execute(sa.text("DELETE FROM duplicate_match_keys WHERE organization_id < 0"))
    _backfill(connection)
    # After the backfill: one sorted build rather than a million index insertions.
    op.create_index(
        "ix_duplicate_name_keys_count", "duplicate_name_keys", ["organization_id", "key"]
    )


def downgrade() -> None:
    op.drop_index("ix_duplicate_name_keys_count", table_name="duplicate_name_keys")
    op.drop_table("duplicate_name_keys")


def _name_code(name: str) -> str:
    """A name's phonetic key: Metaphone of its letters, lower-cased, accents removed."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(c for c in decomposed if c.isalpha() and not unicodedata.combining(c))
    return jellyfish.metaphone(folded) if folded else ""


def _tally(first_code: str, last_code: str) -> int:
    """The signed 64-bit hash of both names' (non-empty) phonetic keys, in either order."""
    text = "n|" + "|".join(sorted((first_code, last_code)))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _insert(connection: Connection, table: sa.TableClause, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        connection.execute(table.insert(), rows[start : start + BATCH])


def _names(connection: Connection) -> Iterable[str]:
    """The distinct first and last names of the patients who have a tally."""
    query = sa.text(
        "SELECT u.first_name FROM users u WHERE u.role = 'patient' AND u.active = :active "
        "AND u.first_name IS NOT NULL UNION "
        "SELECT u.last_name FROM users u WHERE u.role = 'patient' AND u.active = :active "
        "AND u.last_name IS NOT NULL"
    )
    return connection.execute(query, {"active": True}).scalars()


def _backfill(connection: Connection) -> None:
    connection.execute(
        sa.text("CREATE TEMPORARY TABLE tmp_name_codes (name VARCHAR PRIMARY KEY, code VARCHAR)")
    )
    connection.execute(
        sa.text(
            "CREATE TEMPORARY TABLE tmp_name_tallies (first_code VARCHAR, last_code VARCHAR, "
            "tally BIGINT, PRIMARY KEY (first_code, last_code))"
        )
    )
    codes = [{"name": name, "code": _name_code(name)} for name in _names(connection)]
    _insert(connection, _CODES, [c for c in codes if c["code"]])
    pairs = connection.execute(
        sa.text(
            "SELECT DISTINCT f.code, l.code FROM users u "
            "JOIN tmp_name_codes f ON f.name = u.first_name "
            "JOIN tmp_name_codes l ON l.name = u.last_name "
            "WHERE u.role = 'patient' AND u.active = :active"
        ),
        {"active": True},
    ).all()
    tallies = [
        {"first_code": first, "last_code": last, "tally": _tally(first, last)}
        for first, last in pairs
    ]
    _insert(connection, _TALLIES, tallies)
    connection.execute(
        sa.text(
            "INSERT INTO duplicate_name_keys (user_id, organization_id, key) "
            "SELECT u.id, u.organization_id, t.tally FROM users u "
            "JOIN tmp_name_codes f ON f.name = u.first_name "
            "JOIN tmp_name_codes l ON l.name = u.last_name "
            "JOIN tmp_name_tallies t ON t.first_code = f.code AND t.last_code = l.code "
            "WHERE u.role = 'patient' AND u.active = :active"
        ),
        {"active": True},
    )
    connection.execute(sa.text("DROP TABLE tmp_name_tallies"))
    connection.execute(sa.text("DROP TABLE tmp_name_codes"))
