"""Telling an organization's providers that one of its webhooks fails, or was disabled.

The emails name the webhook's id and its URL's host only: no event, resource or patient.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.roles import Role
from carebook.events.models import Webhook
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_email
from carebook.users.models import User


async def email_providers(
    session: AsyncSession, webhook: Webhook, *, kind: EmailKind, hours: float
) -> int:
    """Queue ``kind`` to every active provider of the webhook's organization; how many."""
    providers = await session.scalars(
        select(User.id)
        .where(
            User.organization_id == webhook.organization_id,
            User.role == Role.PROVIDER,
            User.active.is_(True),
            User.email.is_not(None),
        )
        .order_by(User.id)
    )
    params: dict[str, int | str] = {
        "webhook_id": webhook.id,
        "url_host": urlsplit(webhook.url).hostname or "",
        "hours": str(round(hours)),
    }
    queued = 0
    for user_id in list(providers):
        message = await queue_email(
            session,
            organization_id=webhook.organization_id,
            recipient_user_id=user_id,
            kind=kind,
            params=params,
        )
        queued += message is not None
    return queued
