"""Write events, recorded by the services that make the writes, in the write's own transaction.

Whoever opens a write transaction says where it comes from with :func:`open_trail`: a GraphQL
mutation (its root field), the set-password page, a command of the ``carebook`` CLI. A service
that changes a patient record calls :func:`record_write` with the records and the action; the
events are inserted in the same transaction, so they commit or roll back with the change, and
every entry point records the same events for the same write.

A transaction opened without an origin is not left unrecorded: its events carry the ``system``
origin (no actor, credential ``system``), so a forgotten entry point shows in the trail. Only
loading data that is no one's activity (the tests' fixtures) may say so with
:func:`load_without_trail`; no module of carebook calls it (tests/audit/test_entry_points.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import EventRow, Origin, Target, event_rows, insert_events
from carebook.auth.actor import Actor

logger = logging.getLogger("carebook.audit")

# Where a session keeps its trail (SQLAlchemy's per-session dictionary for this purpose).
_KEY = "carebook.audit.trail"
SYSTEM = "system"
CLI = "cli"
# The request_id and client_address columns are this wide; a longer value fails the insert.
MAX_TEXT = 64
# Where an HTTP request's id is kept in its ASGI scope's state (carebook.web.access_log sets it
# before anything else runs; request_origin's callers read it from there).
REQUEST_ID_STATE = "carebook_request_id"


@dataclass(slots=True)
class WriteTrail:
    """The origin of one write session's events, and the events recorded in it so far."""

    origin: Origin | None  # None: fixture data, not recorded (load_without_trail)
    operation: str
    rows: list[EventRow] = field(default_factory=list)


def open_trail(session: AsyncSession, origin: Origin | None, operation: str) -> WriteTrail:
    """Say who writes through ``session`` and under which operation name (replaces any before)."""
    trail = WriteTrail(origin, operation[:100])  # the operation column's width
    session.info[_KEY] = trail
    return trail


def trail_of(session: AsyncSession) -> WriteTrail:
    """The session's trail; the ``system`` origin when its opener gave none."""
    trail: WriteTrail | None = session.info.get(_KEY)
    if trail is None:
        logger.warning("a write session without an origin: its events are recorded as system")
        trail = open_trail(session, system_origin(), SYSTEM)
    return trail


def load_without_trail(session: AsyncSession) -> None:
    """Fixture data loaded through the services, which is no one's activity: no events.

    For tests only: an entry point gives its origin, or gets the ``system`` one.
    """
    open_trail(session, None, "")


def act_as(session: AsyncSession, actor: Actor) -> None:
    """From now on the session's writes are ``actor``'s (a command that creates its actor)."""
    trail = trail_of(session)
    if trail.origin is not None:
        trail.origin = replace(trail.origin, actor=actor)


async def record_write(session: AsyncSession, targets: Sequence[Target], *, action: str) -> None:
    """Insert an allowed event per target in the session's transaction (no flush, no SELECT).

    Targets no organization can own (an anonymous write of a record without one) are left out.
    """
    if not targets:
        return
    trail = trail_of(session)
    if trail.origin is None:
        return
    rows = event_rows(
        trail.origin,
        targets,
        operation=trail.operation,
        action=action,
        allowed=True,
        occurred_at=datetime.now(UTC),
    )
    await insert_events(session, rows)
    trail.rows.extend(rows)


def request_id(given_id: str) -> str:
    """An HTTP request's id: its client's X-Request-ID when sane, else a fresh one."""
    usable = 0 < len(given_id) <= MAX_TEXT and given_id.isascii() and given_id.isprintable()
    return given_id if usable else uuid.uuid4().hex


def given_request_id(scope: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """The id an HTTP request's middleware settled on, else its client's X-Request-ID."""
    state = scope.get("state") or {}
    return str(state.get(REQUEST_ID_STATE) or headers.get("x-request-id", ""))


def request_origin(actor: Actor | None, address: str | None, given_id: str) -> Origin:
    """The origin of an HTTP request: its client's X-Request-ID is kept when sane.

    ``given_id`` is the id the request's middleware settled on (REQUEST_ID_STATE) when there is
    one, so the trail, the access log and the X-Request-Id answer header name the same id.
    """
    return Origin(
        actor=actor,
        client_address=address[:MAX_TEXT] if address is not None else None,
        request_id=request_id(given_id),
    )


def command_origin() -> Origin:
    """The origin of a ``carebook`` command: no address, a fresh id per run."""
    return Origin(
        actor=None, client_address=None, request_id=f"{CLI}-{uuid.uuid4().hex}", channel=CLI
    )


def system_origin() -> Origin:
    """The origin of a write whose opener said nothing (see the module's docstring)."""
    return Origin(
        actor=None, client_address=None, request_id=f"{SYSTEM}-{uuid.uuid4().hex}", channel=SYSTEM
    )
