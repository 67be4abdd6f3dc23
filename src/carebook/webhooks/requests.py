"""The request of one webhook POST: URL, exact body bytes and headers, signed with its secret."""

from __future__ import annotations

import time
from dataclasses import dataclass

from carebook.config import Settings
from carebook.events.models import Event, Webhook
from carebook.webhooks.secrets import open_sealed
from carebook.webhooks.signing import signed_headers

# Healthie documents no event id header; a receiver needs one to drop the duplicates that
# at-least-once delivery can bring (the same event id, sent twice).
EVENT_ID_HEADER = "X-Carebook-Event-Id"
ATTEMPT_HEADER = "X-Carebook-Delivery-Attempt"
USER_AGENT = "Carebook-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Prepared:
    """What is sent, and what the attempt's ``sent_webhooks`` row says about it."""

    webhook_id: int
    organization_id: int
    url: str
    body: bytes
    # None when the secret cannot be opened (CAREBOOK_SECRET_KEY changed): nothing is sent.
    headers: dict[str, str] | None
    event_id: int | None
    event_type: str
    resource_id: int | None
    resource_id_type: str | None
    should_retry: bool


def key_id(webhook_id: int) -> str:
    """The ``keyid`` of the signature: which webhook's secret signed it."""
    return f"webhook-{webhook_id}"


def prepare(
    settings: Settings,
    webhook: Webhook,
    *,
    event: Event,
    body: bytes,
    event_key: str | None = None,
    attempt: int = 1,
) -> Prepared:
    """The signed POST of ``body`` (an event's, or a test's) to ``webhook``."""
    secret = open_sealed(
        webhook.secret_sealed, secret_key=settings.secret_key, webhook_id=webhook.id
    )
    headers = None
    if secret is not None:
        headers = signed_headers(
            method="POST",
            url=webhook.url,
            body=body,
            secret=secret,
            key_id=key_id(webhook.id),
            created=int(time.time()),
            scheme=settings.webhook_signature,
        )
        headers["User-Agent"] = USER_AGENT
        headers[EVENT_ID_HEADER] = event_key or str(event.id)
        headers[ATTEMPT_HEADER] = str(attempt)
    return Prepared(
        webhook_id=webhook.id,
        organization_id=webhook.organization_id,
        url=webhook.url,
        body=body,
        headers=headers,
        event_id=event.id,
        event_type=event.event_type,
        resource_id=event.resource_id,
        resource_id_type=event.resource_type,
        should_retry=webhook.should_retry,
    )
