"""sendTestWebhook: one signed POST of a sample event to a webhook, now, through the sender.

The sample is the webhook's own event type (its first subscribed one when it has several, else
``patient.created``) with that type's ``resource_id_type`` from the catalog: about the caller
when that is ``User``, else ``resource_id`` 0 (no real resource); ``"test": true`` is added so a
receiver can tell it apart; its ``X-Carebook-Event-Id`` is ``test-<random>``, never an
event's id. It is sent whether the webhook is enabled or not (checking a receiver before
turning it back on is the point), logged in ``sent_webhooks`` without an event, and retried never.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from carebook.auth.actor import Actor
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.errors import Invalid
from carebook.events.catalog import EVENT_TYPES
from carebook.events.models import Event, Webhook, WebhookSubscription
from carebook.webhooks import sender
from carebook.webhooks.attempts import log_row
from carebook.webhooks.requests import prepare

DEFAULT_EVENT_TYPE = "patient.created"
NOT_FOUND = "Webhook not found"


async def _sample(database: Database, actor: Actor, webhook_id: int) -> tuple[Webhook, Event]:
    """The caller's organization's webhook and the event to send it; Invalid when not found."""
    async with database.read_sessions() as session:
        webhook = None
        if actor.is_staff:  # patients manage no webhook; another organization's is unknown
            webhook = (
                await session.execute(
                    select(Webhook).where(
                        Webhook.id == webhook_id, Webhook.organization_id == actor.organization_id
                    )
                )
            ).scalar_one_or_none()
        if webhook is None:
            raise Invalid.field("id", NOT_FOUND)
        subscribed = await session.scalar(
            select(WebhookSubscription.event_type)
            .where(WebhookSubscription.webhook_id == webhook.id)
            .order_by(WebhookSubscription.id)
            .limit(1)
        )
    kind = (
        EVENT_TYPES.get(webhook.event_type or subscribed or "") or EVENT_TYPES[DEFAULT_EVENT_TYPE]
    )
    # A transient row, never added to a session: the test is no event of the change feed.
    event = Event(
        organization_id=webhook.organization_id,
        event_type=kind.name,
        # Only a User sample can name a real resource (the caller); an appointment, location
        # or tag of the caller's choosing does not exist, so its sample names id 0.
        resource_type=kind.resource_type,
        resource_id=actor.user_id if kind.resource_type == "User" else 0,
        changed_fields="[]",
        extra="{}",
    )
    return webhook, event


def _body(event: Event) -> bytes:
    payload = {
        "resource_id": event.resource_id,
        "resource_id_type": event.resource_type,
        "event_type": event.event_type,
        "changed_fields": [],
        "test": True,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


async def send_test_webhook(
    database: Database, settings: Settings, *, actor: Actor, webhook_id: int
) -> bool:
    """Send the sample; whether the receiver answered 2xx. Invalid when the webhook is not
    the caller's organization's. No transaction is open during the POST."""
    webhook, event = await _sample(database, actor, webhook_id)
    prepared = prepare(
        settings, webhook, event=event, body=_body(event), event_key=f"test-{uuid.uuid4().hex}"
    )
    if prepared.headers is None:
        outcome = sender.Outcome(None, "secret_unavailable")
    else:
        outcome = await sender.post(
            prepared.url, body=prepared.body, headers=prepared.headers, settings=settings
        )
    async with database.write_sessions() as session, session.begin():
        session.add(log_row(prepared, outcome))
    return outcome.delivered
