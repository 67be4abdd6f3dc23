"""Audit events of writes: in the write's own transaction; refused attempts apart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.accounts.enrollment import Attempt
from carebook.audit.service import EventRow, Target, event_rows, insert_events
from carebook.errors import Invalid
from carebook.graphql.audit.recording import patient_targets
from carebook.graphql.audit.request import origin_of
from carebook.graphql.common import Outcome, write
from carebook.graphql.context import Context
from carebook.users.models import User as UserRow
from carebook.users.validation import parse_id

T = TypeVar("T")
# Patients a write will change, looked up in its transaction before it runs.
Lookup = Callable[[AsyncSession], Awaitable[Sequence[Target]]]


def _default_targets(value: Any) -> list[Target]:
    rows = [value] if isinstance(value, UserRow) else value if isinstance(value, list) else []
    return patient_targets(row for row in rows if isinstance(row, UserRow))


async def audited_write(
    info: Info[Context, None],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    action: str,
    attempted: Sequence[int | None] = (None,),
    targets: Callable[[T], Sequence[Target]] = _default_targets,
    before: Lookup | None = None,
    after: Callable[[AsyncSession, T], Awaitable[Sequence[Target]]] | None = None,
    aimed_at: Attempt | None = None,
) -> Outcome[T]:
    """:func:`write` with its audit events in the same transaction.

    The patients are ``targets(value)``, plus those that ``before`` finds in the transaction
    before the work runs (a link the work removes) and those ``after`` finds once it ran (a
    link it adds). A write that is refused (messages) rolls back, events included; the attempt
    is then recorded apart, with allowed=false, for the ``attempted`` record ids. An anonymous
    caller has no organization: its refused attempt is recorded for the one the work found it
    ``aimed_at`` (none known: not recorded, as no organization may read it).
    """
    context = info.context
    audit = context.audit
    operation = info.field_name
    committed: list[EventRow] = []  # the events of the try that commits

    async def audited_work(session: AsyncSession) -> T:
        earlier = list(await before(session)) if before and audit is not None else []
        value = await work(session)
        if audit is not None:
            later = list(await after(session, value)) if after is not None else []
            rows = event_rows(
                origin_of(context, audit),
                [*targets(value), *earlier, *later],
                operation=operation,
                action=action,
                allowed=True,
                occurred_at=datetime.now(UTC),
            )
            await insert_events(session, rows)
            committed[:] = rows  # a retried try replaces the rows of the one rolled back
        return value

    outcome = await write(context, audited_work)
    if audit is None:
        return outcome
    if not outcome.messages:
        # The payload's read of these patients is this write's: one event, not two.
        audit.note_written(committed)
        if context.idempotency is not None:  # only an answer kept for replays needs the list
            audit.note_disclosed(committed)
        return outcome
    organization_id = aimed_at.organization_id if aimed_at is not None else None
    record_refused(info, [Target(record_id, organization_id) for record_id in attempted], action)
    return outcome


def record_refused(info: Info[Context, None], targets: Sequence[Target], action: str) -> None:
    """Record attempts that changed nothing (allowed=false), after the request's answer."""
    context = info.context
    if context.audit is None:
        return
    context.audit.pending.extend(
        event_rows(
            origin_of(context, context.audit),
            targets,
            operation=info.field_name,
            action=action,
            allowed=False,
            occurred_at=datetime.now(UTC),
        )
    )


def attempted_ids(values: Iterable[Any]) -> list[int | None]:
    """The record ids a write was asked for, for refused attempts; [None] when there are none.

    Malformed ids name no record and are left out.
    """
    ids: list[int | None] = []
    for value in values:
        try:
            # parse_id refuses ids past the column's range, which would fail the whole batch.
            record_id = parse_id(value, "id")
        except Invalid:
            continue
        if record_id is not None:
            ids.append(record_id)
    return ids or [None]


def named_users(info: Info[Context, None], ids: Iterable[int | None]) -> list[Target]:
    """Targets for a write about users named by id (tags, locations), without a SELECT.

    A provider or staff member changing their own tags or address is not a patient record;
    any other id is recorded (it can only be one of the caller's patients, or the write fails).
    """
    actor = info.context.actor
    own = actor.user_id if actor is not None and actor.is_staff else None
    return [Target(i, None) for i in ids if i is not None and i != own]
