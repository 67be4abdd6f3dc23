"""Webhooks and events written straight to the database, and a signature check done by an
independent RFC 9421 implementation (the http-message-signatures package)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from sqlalchemy import select

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.events.emit import emit
from carebook.events.models import Webhook, WebhookDelivery, WebhookSubscription
from carebook.webhooks.secrets import new_secret, seal
from tests.support.webhook_receiver import Request


async def add_webhook(
    database: Database,
    settings: Settings,
    *,
    organization_id: int,
    url: str,
    event_type: str | None = "patient.created",
    subscriptions: Sequence[str] = (),
    should_retry: bool = True,
) -> tuple[int, str]:
    """A webhook (and its WebhookEvents); its id and signing secret."""
    secret = new_secret()
    async with database.write_sessions() as session, session.begin():
        webhook = Webhook(
            organization_id=organization_id,
            url=url,
            event_type=event_type,
            should_retry=should_retry,
            secret_sealed="",
        )
        session.add(webhook)
        await session.flush()
        webhook.secret_sealed = seal(secret, secret_key=settings.secret_key, webhook_id=webhook.id)
        for kind in subscriptions:
            session.add(WebhookSubscription(webhook_id=webhook.id, event_type=kind))
        return webhook.id, secret


async def add_event(
    database: Database,
    *,
    organization_id: int,
    event_type: str = "patient.created",
    resource_id: int = 7,
    changed_fields: Sequence[str] = (),
) -> int:
    """A committed event, as a service's emit() leaves it."""
    async with database.write_sessions() as session, session.begin():
        event = emit(
            session,
            organization_id=organization_id,
            event_type=event_type,
            resource_id=resource_id,
            changed_fields=changed_fields,
        )
        await session.flush()
        return event.id


async def deliveries(database: Database) -> list[WebhookDelivery]:
    async with database.read_sessions() as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.id)
        return list((await session.execute(query)).scalars())


class _Secret(HTTPSignatureKeyResolver):
    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()

    def resolve_public_key(self, key_id: str) -> bytes:
        return self.secret

    def resolve_private_key(self, key_id: str) -> bytes:
        return self.secret


def verify(request: Request, *, port: int, secret: str) -> dict[str, object]:
    """The verified signature's parameters; raises when the signature or digest is wrong."""
    message = httpx.Request(
        request.method,
        f"http://127.0.0.1:{port}{request.target}",
        headers=request.headers,
        content=request.body,
    )
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.HMAC_SHA256, key_resolver=_Secret(secret)
    )
    (result,) = verifier.verify(
        message,
        body=request.body,  # the library checks Content-Digest against the body too
        require_components=(
            "@method",
            "@path",
            "@query",
            "content-digest",
            "content-type",
            "content-length",
        ),
    )
    return dict(result.parameters)


POLL_BOUND_SECONDS = 120.0  # generous: a loaded CI runner is slow, never this slow


async def poll_until(
    check: Callable[[], Awaitable[bool]],
    *,
    alive: asyncio.Task[None] | None = None,
    seconds: float = POLL_BOUND_SECONDS,
) -> None:
    """Poll ``check`` until it is true: fail at once if the ``alive`` task (a worker) ended,
    else after ``seconds`` (a bound for a hang, never a timing expectation)."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert alive is None or not alive.done(), "the background task stopped"
        assert time.monotonic() < deadline, f"not reached within {seconds} s"
        await asyncio.sleep(0.02)
