"""Emitting an event: a row added to the caller's transaction, nothing sent yet.

Services call :func:`emit` next to the write it describes. The row commits or rolls back with
the write (a refused mutation sends nothing; a committed one is delivered even if the server
dies right after the commit), and no statement is sent until the transaction flushes, so an
event costs a write one INSERT at commit. Bulk writes call :func:`emit_all`: their events go in
one INSERT, however many there are.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.db.base import utcnow
from carebook.db.many_rows import insert_mappings
from carebook.events.catalog import EVENT_TYPES
from carebook.events.models import Event

Extra = Mapping[str, int | str | None]
# The Core table, for emit_all's one statement.
_TABLE = cast(Table, Event.__table__)


@dataclass(frozen=True, slots=True)
class Change:
    """One event of a bulk write, for :func:`emit_all`; the fields are :func:`emit`'s."""

    organization_id: int
    event_type: str
    resource_id: int
    changed_fields: Sequence[str] = ()
    extra: Extra | None = None


def _values(change: Change) -> dict[str, Any]:
    kind = EVENT_TYPES[change.event_type]  # a KeyError is a programming error, not bad input
    return {
        "organization_id": change.organization_id,
        "event_type": kind.name,
        "resource_type": kind.resource_type,
        "resource_id": change.resource_id,
        "changed_fields": _fields_text(tuple(change.changed_fields)),
        "extra": json.dumps(dict(change.extra), sort_keys=True) if change.extra else "{}",
    }


@functools.lru_cache(maxsize=256)
def _fields_text(fields: tuple[str, ...]) -> str:
    """The stored list of changed fields, built once per set: a bulk write's thousand events
    name the same one or two (their JSON was a tenth of such a write's events)."""
    return json.dumps(sorted(set(fields)))


def emit(
    session: AsyncSession,
    *,
    organization_id: int,
    event_type: str,
    resource_id: int,
    changed_fields: Sequence[str] = (),
    extra: Extra | None = None,
) -> Event:
    """Add one event to ``session``'s transaction.

    ``changed_fields`` are Healthie's field names, for updated events (sorted, without
    duplicates on the wire); ``extra`` holds the additional fields Healthie's reference gives
    the event, ids and type names only: never patient data.
    """
    event = Event(
        **_values(Change(organization_id, event_type, resource_id, changed_fields, extra))
    )
    session.add(event)
    return event


async def emit_all(session: AsyncSession, changes: Sequence[Change]) -> None:
    """Write the events of a bulk write in one INSERT, now, in ``session``'s transaction (a
    single creation's event too: a Core INSERT costs it less than the ORM's flush).

    The ORM sends one INSERT per added row on SQLite (it needs each new id back); this one
    statement asks for no id, so fifty patients changed at once cost one statement, not fifty.
    It goes to the Core table, a plain executemany on SQLite (the ORM's bulk-insert bookkeeping
    cost a thousand-patient bulkUpdateClients about 20 ms, issue 28) and one ``INSERT ... SELECT
    FROM unnest`` on PostgreSQL, where an executemany is one statement per row
    (db/many_rows.py).
    """
    if not changes:
        return
    # A Core INSERT does not flush the session first: events added with emit() and not yet
    # flushed would get ids after these, out of order. Flushing keeps the ids in write order
    # (and writes the caller's pending changes now rather than at the commit: an update's row
    # for emit_patient_updated, for one).
    await session.flush()
    now = utcnow()
    rows = [{**_values(change), "created_at": now, "dispatched": False} for change in changes]
    await session.run_sync(lambda sync: insert_mappings(sync.connection(), _TABLE, rows))
