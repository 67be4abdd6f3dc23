"""Events and webhooks written straight to the tables, for the change feed's tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from carebook.db.engine import Database
from carebook.events.emit import emit
from carebook.events.models import Webhook, WebhookDelivery, WebhookSubscription
from carebook.webhooks.secrets import new_secret, seal


async def add_event(
    database: Database,
    organization_id: int,
    event_type: str,
    resource_id: int,
    *,
    changed: Sequence[str] = (),
    created_at: datetime | None = None,
    dispatched: bool = False,
) -> int:
    """One committed event, as a service emits it (optionally aged and already fanned out)."""
    async with database.write_sessions() as session, session.begin():
        event = emit(
            session,
            organization_id=organization_id,
            event_type=event_type,
            resource_id=resource_id,
            changed_fields=changed,
        )
        event.dispatched = dispatched
        if created_at is not None:
            event.created_at = created_at
        await session.flush()
        return event.id


async def add_webhook(
    database: Database,
    organization_id: int,
    *,
    event_type: str | None = None,
    subscriptions: Sequence[str] = (),
    enabled: bool = True,
) -> int:
    """A webhook of the organization receiving ``event_type`` and the ``subscriptions``."""
    async with database.write_sessions() as session, session.begin():
        webhook = Webhook(
            organization_id=organization_id,
            url="https://receiver.example.com/hook",
            event_type=event_type,
            is_enabled=enabled,
            secret_sealed="",
        )
        session.add(webhook)
        await session.flush()
        webhook.secret_sealed = seal(new_secret(), secret_key="test", webhook_id=webhook.id)
        session.add_all(
            WebhookSubscription(webhook_id=webhook.id, event_type=kind) for kind in subscriptions
        )
        return webhook.id


async def deliveries(database: Database) -> list[WebhookDelivery]:
    """Every delivery row, oldest first."""
    async with database.read_sessions() as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.id)
        return list((await session.execute(query)).scalars())
