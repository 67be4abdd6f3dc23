"""Moving the rows of the registry (registry.py) to the target, and back, by primary key.

Plain statements on the tables (no ORM objects of these rows are loaded in a merge), one
UPDATE per row by its primary key: a merge is about one person's records, and a row's own key
is what unmerge finds it by again, whatever else changed since, as long as the row with that
key was made before the merge (``created_at``): a key can repeat (a tag removed and applied
again, a care-team member removed and added again, SQLite giving a deleted row's id to a new
one), and such a newer row is not the one the merge moved.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from carebook.errors import Invalid
from carebook.events.emit import Change, emit_all
from carebook.merges.registry import MOVED, Moved
from carebook.tables import Base  # every table registered, whichever module asks first
from carebook.users.merge_log import KEPT, ClientMergeRow
from carebook.users.merge_log import MOVED as MOVED_ROW

# What a row of a table with a unique rule is, in a message.
LABELS = {
    "taggings": "tag",
    "applied_tags": "tag",
    "care_team_members": "care-team member",
    "conversation_memberships": "conversation membership",
}


# A row moved: its table and the merged patient it came from (or went back to).
Moves = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Shift:
    """The merge whose rows move (its log id) and its organization (its events')."""

    merge_id: int
    organization_id: int


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _match(table: Table, key: dict[str, Any]) -> ColumnElement[bool]:
    return and_(*(table.c[name] == value for name, value in key.items()))


def _key(table: Table, row: Row[Any]) -> dict[str, Any]:
    return {column.name: row._mapping[column.name] for column in table.primary_key.columns}


async def _rows_of(
    session: AsyncSession, entry: Moved, user_ids: Sequence[int]
) -> Sequence[Row[Any]]:
    table = _table(entry.table)
    query = select(table).where(table.c[entry.column].in_(user_ids))
    return (await session.execute(query.order_by(*table.primary_key.columns))).all()


def _binds(entry: Moved, row: Row[Any]) -> bool:
    """Whether the row's uniqueness binds (a removed tag application may repeat)."""
    return bool(entry.unique) and all(row._mapping[c] is None for c in entry.unique_while_null)


def _unique(entry: Moved, row: Row[Any]) -> tuple[Any, ...]:
    return tuple(row._mapping[c] for c in entry.unique)


async def _held_by_target(session: AsyncSession, entry: Moved, target_id: int) -> set[Any]:
    """The unique values the target's own rows already hold."""
    if not entry.unique:
        return set()
    rows = await _rows_of(session, entry, [target_id])
    held = {_unique(entry, row) for row in rows if _binds(entry, row)}
    if entry.held_by_user is not None:
        users = _table("users")
        own = select(users.c[entry.held_by_user]).where(users.c.id == target_id)
        held.add(((await session.execute(own)).scalar_one(),))
    return held


async def move_to_target(
    session: AsyncSession, shift: Shift, merged_ids: Sequence[int], target_id: int
) -> list[Moves]:
    """Move every registered row of ``merged_ids`` to ``target_id``, logging each row; the
    tables whose rows moved and the patients they came from (for ``changed_fields``)."""
    log: list[dict[str, Any]] = []
    events: list[Change] = []
    touched: list[Moves] = []
    for entry in MOVED:
        table = _table(entry.table)
        taken = await _held_by_target(session, entry, target_id)
        for row in await _rows_of(session, entry, merged_ids):
            key = _key(table, row)
            outcome = MOVED_ROW
            if _binds(entry, row):
                if _unique(entry, row) in taken:
                    outcome = KEPT
                taken.add(_unique(entry, row))
            if outcome == MOVED_ROW:
                await session.execute(
                    update(table).where(_match(table, key)).values({entry.column: target_id})
                )
                events += _event(shift, entry, row)
                touched.append((entry.table, row._mapping[entry.column]))
            log.append(_log_row(shift, entry, row, key, outcome))
    if log:
        await session.execute(insert(ClientMergeRow), log)
    await emit_all(session, events)
    return touched


def _log_row(
    shift: Shift, entry: Moved, row: Row[Any], key: dict[str, Any], outcome: str
) -> dict[str, Any]:
    return {
        "merge_id": shift.merge_id,
        "table_name": entry.table,
        "column_name": entry.column,
        "from_user_id": row._mapping[entry.column],
        "row_key": json.dumps(key, sort_keys=True),
        "outcome": outcome,
    }


def _event(shift: Shift, entry: Moved, row: Row[Any]) -> list[Change]:
    if entry.event is None:
        return []
    return [Change(shift.organization_id, entry.event, row._mapping["id"], entry.changed_fields)]


def _entry(table: str, column: str) -> Moved:
    return next(e for e in MOVED if (e.table, e.column) == (table, column))


async def move_back(
    session: AsyncSession, shift: Shift, target_id: int, merged_at: datetime
) -> list[Moves]:
    """Move each row the merge moved back to the patient it came from, found by its primary
    key and only while it is still that row: naming the target and made before the merge (a
    row deleted, moved on, or removed and made again since, or a new row given a deleted one's
    id, stays as it is); the tables whose rows moved back and the patients they went to."""
    logged = await session.execute(
        select(ClientMergeRow)
        .where(ClientMergeRow.merge_id == shift.merge_id, ClientMergeRow.outcome == MOVED_ROW)
        .order_by(ClientMergeRow.id)
    )
    events: list[Change] = []
    touched: list[Moves] = []
    for entry_row in logged.scalars():
        entry = _entry(entry_row.table_name, entry_row.column_name)
        table = _table(entry.table)
        key = json.loads(entry_row.row_key)
        if entry.column in key:
            key[entry.column] = target_id  # the key the row has now
        same = and_(_match(table, key), table.c[entry.column] == target_id)
        if "created_at" in table.c:
            made = table.c.created_at
            same = and_(same, or_(made.is_(None), made <= merged_at))
        row = (await session.execute(select(table).where(same))).first()
        if row is None:
            continue
        await _refuse_duplicate(session, entry, row, entry_row.from_user_id)
        await session.execute(
            update(table).where(same).values({entry.column: entry_row.from_user_id})
        )
        touched.append((entry.table, entry_row.from_user_id))
        events += _event(shift, entry, row)
    await emit_all(session, events)
    return touched


async def _refuse_duplicate(
    session: AsyncSession, entry: Moved, row: Row[Any], origin_id: int
) -> None:
    """A row like ``row`` given to the archived patient since the merge (the same tag, say)
    would make the move back break a unique rule: say so, rather than fail (or retry)."""
    if not _binds(entry, row):
        return
    table = _table(entry.table)
    query = select(table).where(
        table.c[entry.column] == origin_id,
        *(table.c[c] == row._mapping[c] for c in entry.unique),
        *(table.c[c].is_(None) for c in entry.unique_while_null),
    )
    if (await session.execute(query)).first() is not None:
        what = LABELS.get(entry.table, entry.table)
        raise Invalid.field(
            "id",
            f"Client {origin_id} was given a {what} since the merge that the merge had moved "
            f"to the other client; remove it from client {origin_id}, then undo the merge",
        )
