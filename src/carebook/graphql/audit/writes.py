"""Audit of GraphQL writes: the origin and operation of the services' events; refusals apart.

The services record what they change (carebook.audit.trail); this module gives them the
request's origin and the root field as the operation, and records refused attempts, which
roll back with their transaction, apart.
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.accounts.enrollment import Attempt
from carebook.audit.service import EventRow, Origin, Target, event_rows
from carebook.audit.trail import open_trail, request_origin
from carebook.errors import Invalid
from carebook.graphql.audit.request import origin_of
from carebook.graphql.common import Outcome, write
from carebook.graphql.context import Context
from carebook.users.validation import parse_id

T = TypeVar("T")


async def audited_write(
    info: Info[Context, None],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    action: str,
    attempted: Sequence[int | None] = (None,),
    aimed_at: Attempt | None = None,
) -> Outcome[T]:
    """:func:`write` under this request's audit origin, the root field as the operation.

    The services record the events of what they change, in the write's transaction
    (carebook.audit.trail): a write that is refused (messages) rolls back, events included. The
    attempt is then recorded apart, with allowed=false and ``action``, for the ``attempted``
    record ids. An anonymous caller has no organization: its refused attempt is recorded for the
    one the work found it ``aimed_at`` (none known: not recorded, as no organization may read
    it).
    """
    context = info.context
    audit = context.audit
    committed: list[EventRow] = []  # the events of the try that commits

    async def audited_work(session: AsyncSession) -> T:
        trail = open_trail(session, _origin(context), info.field_name)
        value = await work(session)
        committed[:] = trail.rows  # a retried try replaces the rows of the one rolled back
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


def _origin(context: Context) -> Origin:
    """The request's origin (a context built without audit state still names its caller)."""
    if context.audit is None:
        return request_origin(context.actor, None, "")
    return origin_of(context, context.audit)


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
