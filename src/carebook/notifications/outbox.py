"""Queueing emails in the outbox, inside the caller's transaction.

Only references are stored (recipient id, template kind, record ids): the message is rendered at
delivery time, so patient details never sit in a queue table or a log line.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.notifications.models import EmailKind, OutboxMessage

logger = logging.getLogger("carebook.email")


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
    # Ids and kind only; delivered (or kept, without SMTP) once the transaction commits.
    logger.info("email %s (%s) queued for user %s", message.id, kind.value, recipient_user_id)
    return message
