"""Queueing emails in the outbox, inside the caller's transaction.

Only references are stored (recipient id, template kind, record ids): the message is rendered at
delivery time, so patient details never sit in a queue table or a log line.
"""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.notifications.models import EmailKind, OutboxMessage


async def queue_email(
    session: AsyncSession,
    *,
    organization_id: int,
    recipient_user_id: int,
    kind: EmailKind,
    params: dict[str, int | str] | None = None,
) -> OutboxMessage:
    """Add one email to the outbox; it is sent only if the transaction commits."""
    message = OutboxMessage(
        organization_id=organization_id,
        recipient_user_id=recipient_user_id,
        kind=kind.value,
        params=json.dumps(params or {}, sort_keys=True),
    )
    session.add(message)
    await session.flush()
    return message
