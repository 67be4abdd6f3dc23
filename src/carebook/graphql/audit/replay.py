"""Audit events of an Idempotency-Key replay: the first answer handed out again.

The first request's trail recorded which patients its answer held or its write changed
(``RequestAudit.disclosed``, kept inside the sealed record). A replay records a ``read`` of each
of them for the replaying caller, under ``replay:<root field>``, before the answer leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import groupby

from carebook.audit.service import Target, event_rows
from carebook.audit.writer import AuditUnavailable
from carebook.graphql.audit.request import origin_of
from carebook.graphql.context import Context

PREFIX = "replay:"
_MAX_OPERATION = 100  # the operation column's width


def replay_operation(operation: str) -> str:
    """The operation name of a replay of an answer given under ``operation``."""
    return (PREFIX + operation)[:_MAX_OPERATION]


async def record_replay(context: Context, disclosed: Iterable[tuple[int, int, str]]) -> bool:
    """Record and store the replay's reads; False when they could not be stored.

    Like a first answer, a replay is not handed out without its trail: on False the caller
    answers with an error instead.
    """
    audit = context.audit
    if audit is None:
        return True
    origin, now = origin_of(context, audit), datetime.now(UTC)
    for operation, items in groupby(sorted(disclosed, key=_by_operation), key=_by_operation):
        targets = [Target(record_id, organization_id) for organization_id, record_id, _ in items]
        audit.pending.extend(
            event_rows(
                origin,
                targets,
                operation=replay_operation(operation),
                action="read",
                allowed=True,
                occurred_at=now,
            )
        )
    if not audit.pending:
        return True
    # Requests waiting for the writer must not hold the connections it needs.
    await context.end_read_transaction()
    try:
        await audit.flush()
    except AuditUnavailable:
        return False
    return True


def _by_operation(item: tuple[int, int, str]) -> str:
    return item[2]
