"""The statements of one import batch: its users, search tokens and blocking keys, with Core.

The ORM's flush did this before, through the hooks that keep the search tokens and the blocking
keys in step (search/index.py, duplicates/index.py); an import's records are plain objects, so
it calls what those hooks call itself (``written``), in the same order and the same transaction:

- each changed patient's changed columns and ``updated_at``, one executemany UPDATE per set of
  changed columns (a re-run that changes nothing sends none);
- then the new patients in one INSERT (their ids reserved first, imports/ids.py): an
  executemany on SQLite, one ``INSERT ... SELECT FROM unnest`` on PostgreSQL (db/many_rows.py),
  whose counters follow by statement-level triggers (migration 0038) that executemany would
  fire once per row;
- their tokens and their keys, as the flush hooks would; the caller then re-checks the pairs of
  the patients whose keyed facts changed (imports/service.py, with custom plans for its reads).

The counters (``user_counts``, ``list_blocks``) follow through the database's triggers, whatever
writes the rows.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Insert, Update

from carebook.db.many_rows import insert_rows
from carebook.duplicates import index as keys
from carebook.imports.records import COLUMNS, KEYS, PatientRecord
from carebook.search import index as tokens
from carebook.users.models import User

_USERS: Table = User.__table__  # type: ignore[assignment]
_COLUMN = dict(COLUMNS)
# The records' attributes are the statement's parameters: a record's dictionary is its row.
_INSERT: Insert = insert(_USERS).values(
    {column: bindparam(key, type_=column.type) for key, column in COLUMNS}
)
_ID = "record_id"
# The users table's column names, in the order of the records' KEYS.
_NAMES = tuple(column.name for _, column in COLUMNS)


@functools.cache
def _update(changed: tuple[str, ...]) -> Update:
    """The UPDATE of these columns (attribute keys) and ``updated_at``, by id."""
    values = {_COLUMN[key]: bindparam(key, type_=_COLUMN[key].type) for key in changed}
    values[_COLUMN["updated_at"]] = bindparam("updated_at", type_=_COLUMN["updated_at"].type)
    return update(_USERS).where(_USERS.c.id == bindparam(_ID)).values(values)


def write_batch(
    connection: Connection,
    new: Sequence[PatientRecord],
    changed: Sequence[tuple[PatientRecord, Collection[str]]],
    now: datetime,
) -> dict[int, list[int]]:
    """Insert ``new`` (ids set), update ``changed`` (each with its changed attribute keys),
    and keep the search tokens and blocking keys in step, in ``connection``'s transaction.
    Returns the patients whose duplicate pairs must be re-checked, by organization
    (``duplicates.index.recheck_all``: the caller plans that check's reads)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    # In id order within each UPDATE, as the ORM's flush sends them.
    for record, names in sorted(changed, key=lambda pair: pair[0].id or 0):
        record.updated_at = now
        values = record.__dict__
        columns = tuple(sorted(names))
        row = {key: values[key] for key in columns}
        row["updated_at"], row[_ID] = now, record.id
        groups.setdefault(columns, []).append(row)
    for columns, rows in groups.items():
        connection.execute(_update(columns), rows)
    # After the updates, as the ORM's flush orders them: a row may take an email or identifier
    # that an earlier row of the batch moved off a patient.
    if new:
        for record in new:
            record.created_at = record.updated_at = now
        _insert(connection, new)
    tokens.written(connection, new, changed)
    return keys.written(connection, new, changed)


def _insert(connection: Connection, new: Sequence[PatientRecord]) -> None:
    """The new patients in one statement on PostgreSQL: its counters' triggers fire once per
    statement (migration 0038), and an executemany is one statement per row."""
    if connection.dialect.name == "postgresql":
        rows = [tuple(map(record.__dict__.__getitem__, KEYS)) for record in new]
        insert_rows(connection, _USERS, _NAMES, rows)
    else:
        connection.execute(_INSERT, [record.__dict__ for record in new])
