"""redeliverWebhookEvent: send one past event again, to one webhook or to every one receiving it.

Only a row is queued here (a pending ``webhook_deliveries`` row, due now); the delivery worker
sends it as any other, signed, retried and logged in sentWebhooks. Another organization's
event or webhook is "not found", like an unknown id, so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor, require_staff
from carebook.db.base import utcnow
from carebook.errors import Invalid
from carebook.events.models import (
    DeliveryStatus,
    Event,
    Webhook,
    WebhookDelivery,
    WebhookSubscription,
)
from carebook.users.lookup import found

EVENT_NOT_FOUND = "Event not found"
WEBHOOK_NOT_FOUND = "Webhook not found"
DISABLED = "This webhook is disabled: enable it with updateWebhook first"
NO_RECEIVER = "No enabled webhook of the organization receives this event type"


@dataclass(frozen=True, slots=True)
class Redelivery:
    """The event to send again and, optionally, the one webhook to send it to."""

    event_id: str | None = None
    webhook_id: str | None = None


async def _own_event(session: AsyncSession, actor: Actor, event_id: int) -> Event | None:
    query = select(Event).where(
        Event.id == event_id, Event.organization_id == actor.organization_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _own_webhook(session: AsyncSession, actor: Actor, webhook_id: int) -> Webhook | None:
    query = select(Webhook).where(
        Webhook.id == webhook_id, Webhook.organization_id == actor.organization_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def receiving_webhooks(session: AsyncSession, event: Event) -> list[Webhook]:
    """The enabled webhooks of the event's organization that receive its type: by the
    webhook's own event_type (Healthie's single type) or by one of its webhook_events."""
    subscribed = select(WebhookSubscription.webhook_id).where(
        WebhookSubscription.event_type == event.event_type
    )
    query = (
        select(Webhook)
        .where(
            Webhook.organization_id == event.organization_id,
            Webhook.is_enabled.is_(True),
            or_(Webhook.event_type == event.event_type, Webhook.id.in_(subscribed)),
        )
        .order_by(Webhook.id)
    )
    return list((await session.execute(query)).scalars())


async def _targets(
    session: AsyncSession, actor: Actor, event: Event, data: Redelivery
) -> list[Webhook]:
    if data.webhook_id is None:
        webhooks = await receiving_webhooks(session, event)
        if not webhooks:
            raise Invalid.field("event_id", NO_RECEIVER)
        return webhooks
    webhook = await found(
        data.webhook_id,
        lambda i: _own_webhook(session, actor, i),
        field="webhook_id",
        missing=WEBHOOK_NOT_FOUND,
        blank=None,
    )
    # A named webhook gets the event even if it does not subscribe to its type: the caller
    # asked for exactly this (a replay to a new receiver). A disabled one would never send it.
    if not webhook.is_enabled:
        raise Invalid.field("webhook_id", DISABLED)
    return [webhook]


async def redeliver(
    session: AsyncSession, *, actor: Actor, data: Redelivery
) -> list[WebhookDelivery]:
    """Queue the event again for its webhooks (or the one named); returns the queued rows."""
    require_staff(actor)
    event = await found(
        data.event_id,
        lambda i: _own_event(session, actor, i),
        field="event_id",
        missing=EVENT_NOT_FOUND,
    )
    now = utcnow()
    rows = [
        WebhookDelivery(
            organization_id=event.organization_id,
            webhook_id=webhook.id,
            event_id=event.id,
            # Per-resource order: the worker sends it after the resource's earlier deliveries.
            resource_key=f"{event.resource_type}:{event.resource_id}",
            status=DeliveryStatus.PENDING,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        for webhook in await _targets(session, actor, event, data)
    ]
    session.add_all(rows)
    await session.flush()
    return rows
