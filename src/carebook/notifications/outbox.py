"""Queueing emails in the outbox, inside the caller's transaction.

An email that the recipient's notification settings turn off is not queued at all (see
:mod:`carebook.notifications.preferences`), so it is neither sent nor listed as sent.

Only references are stored (recipient id, template kind, record ids): the message is rendered at
delivery time, so patient details never sit in a queue table or a log line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.notifications.models import EmailKind, NotificationSetting, OutboxMessage
from carebook.notifications.preferences import GOVERNED_BY

_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
# The columns' Python defaults (status, attempts, times) apply as in the ORM's INSERT.
_QUEUE = insert(_OUTBOX).returning(_OUTBOX.c.id)

logger = logging.getLogger("carebook.email")


async def queue_email(
    session: AsyncSession,
    *,
    organization_id: int,
    recipient_user_id: int,
    kind: EmailKind,
    params: dict[str, int | str] | None = None,
) -> int | None:
    """Add one email to the outbox (sent only if the transaction commits); return its id.

    None when the recipient turned this kind of email off.
    """
    if not await wants(session, recipient_user_id, kind):
        logger.info("email (%s) for user %s not queued: turned off", kind.value, recipient_user_id)
        return None
    # One Core INSERT ... RETURNING id, not an ORM object and a flush of its own: the flush's
    # unit of work cost a createClient more than the statement (issue 28). Objects the caller
    # added and has not flushed go first (as an ORM flush would order them).
    await session.flush()
    values = {
        "organization_id": organization_id,
        "recipient_user_id": recipient_user_id,
        "kind": kind.value,
        "params": json.dumps(params or {}, sort_keys=True),
    }
    message_id = int((await session.execute(_QUEUE, values)).scalar_one())
    # Ids and kind only; delivered (or kept, without SMTP) once the transaction commits.
    logger.info("email %s (%s) queued for user %s", message_id, kind.value, recipient_user_id)
    return message_id


async def wants(session: AsyncSession, user_id: int, kind: EmailKind) -> bool:
    """Whether ``user_id``'s notification settings let an email of ``kind`` be sent to them."""
    preference = GOVERNED_BY.get(kind)
    if preference is None:
        return True
    setting = await session.get(NotificationSetting, user_id)
    return setting is None or bool(getattr(setting, preference))


async def queue_emails(
    session: AsyncSession,
    *,
    organization_id: int,
    recipient_user_ids: Sequence[int],
    kind: EmailKind,
    params: dict[str, int | str] | None = None,
) -> int:
    """``queue_email`` for many recipients in a fixed number of statements, whatever their
    number: one read of who turned ``kind`` off, one multi-row insert of the others' emails
    (no RETURNING: SQLite would insert row by row to return ids). How many were queued."""
    off = await _turned_off(session, recipient_user_ids, kind)
    rows = [
        {
            "organization_id": organization_id,
            "recipient_user_id": user_id,
            "kind": kind.value,
            "params": json.dumps(params or {}, sort_keys=True),
        }
        for user_id in recipient_user_ids
        if user_id not in off
    ]
    if rows:
        await session.execute(insert(OutboxMessage), rows)
    # Counts and kind only: the recipients of a message are who takes part in a conversation.
    logger.info("%d email(s) (%s) queued, %d turned off", len(rows), kind.value, len(off))
    return len(rows)


async def _turned_off(session: AsyncSession, user_ids: Sequence[int], kind: EmailKind) -> set[int]:
    """Which of ``user_ids`` turned emails of ``kind`` off (no settings row: on)."""
    preference = GOVERNED_BY.get(kind)
    if preference is None or not user_ids:
        return set()
    column = getattr(NotificationSetting, preference)
    rows = await session.execute(
        select(NotificationSetting.user_id).where(
            NotificationSetting.user_id.in_(user_ids), column.is_(False)
        )
    )
    return set(rows.scalars())
