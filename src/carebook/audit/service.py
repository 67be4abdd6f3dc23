"""Writing audit events: insert only. There is deliberately no update or delete here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.models import AuditEvent
from carebook.auth.actor import Actor
from carebook.db.many_rows import insert_mappings

PATIENT = "User"
# The Core table: without the ORM's bulk-insert bookkeeping (insert_events).
_TABLE = cast(Table, AuditEvent.__table__)

# An event as the row to insert (column name -> value): built from data already in memory.
EventRow = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Origin:
    """Who is asking and from where: the part every event of one request shares."""

    actor: Actor | None
    client_address: str | None
    request_id: str
    # How the entry point was reached when the actor brings no credential of its own: "cli"
    # for a command, "system" for a write transaction opened without an origin
    # (carebook.audit.trail); None for HTTP requests.
    channel: str | None = None

    def columns(self, record_organization_id: int | None) -> EventRow | None:
        """The actor's columns; None when no organization can own the event.

        Events belong to the actor's organization. An anonymous caller (signUp,
        completeCheckout) has none, so the event goes to the record's organization.
        """
        actor = self.actor
        if actor is None:
            if record_organization_id is None:
                return None
            return {
                **_ANONYMOUS,
                "credential": self.channel,
                "organization_id": record_organization_id,
                "client_address": self.client_address,
                "request_id": self.request_id,
            }
        return {
            "organization_id": actor.organization_id,
            "actor_user_id": actor.user_id,
            "actor_role": actor.role.value,
            "credential": credential_of(actor) or self.channel,
            "client_address": self.client_address,
            "request_id": self.request_id,
        }


_ANONYMOUS: EventRow = {"actor_user_id": None, "actor_role": None, "credential": None}


def credential_of(actor: Actor) -> str | None:
    """How the actor authenticated: "api_key", "session", or None (internal callers)."""
    if actor.api_key_id is not None:
        return "api_key"
    if actor.session_token_id is not None:
        return "session"
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """A record an event is about. ``record_id`` is None for a refused create."""

    record_id: int | None
    organization_id: int | None
    record_type: str = PATIENT


def event_rows(
    origin: Origin,
    targets: Sequence[Target],
    *,
    operation: str,
    action: str,
    allowed: bool,
    occurred_at: datetime,
) -> list[EventRow]:
    """One row per target (targets no organization can own are left out)."""
    rows: list[EventRow] = []
    # The columns all of one organization's rows share, built once (a bulk write has 1,000).
    shared: dict[int | None, EventRow | None] = {}
    for target in targets:
        organization_id = target.organization_id
        if organization_id not in shared:
            columns = origin.columns(organization_id)
            if columns is not None:
                columns.update(
                    occurred_at=occurred_at, operation=operation, action=action, allowed=allowed
                )
            shared[organization_id] = columns
        common = shared[organization_id]
        if common is not None:
            rows.append(
                {**common, "record_type": target.record_type, "record_id": target.record_id}
            )
    return rows


async def insert_events(session: AsyncSession, rows: Sequence[EventRow]) -> None:
    """Insert events in the session's transaction (no SELECT, no flush): one executemany on
    SQLite, one ``INSERT ... SELECT FROM unnest`` on PostgreSQL (db/many_rows.py)."""
    if rows:
        await session.run_sync(lambda sync: insert_mappings(sync.connection(), _TABLE, rows))
