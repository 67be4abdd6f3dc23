"""Delivering events to webhooks: claim a due delivery, sign, send, record the attempt.

- A delivery is due when it is pending and its time has come, or sending with a lapsed lease (a
  worker died mid-send), and no earlier delivery of the same resource to the same webhook is
  still pending or sending: a receiver gets a resource's events in order.
- It is claimed with one conditional UPDATE, so two workers (or servers) never both send it;
  the POST happens outside any transaction; the outcome is recorded in a second transaction
  (:mod:`carebook.webhooks.attempts`). A crash between the POST and the record sends the event
  again once the lease lapses: delivery is at least once, and the ``X-Carebook-Event-Id``
  header lets a receiver drop the duplicate.
- Logs name delivery, event and webhook ids and HTTP statuses only.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.events.models import DeliveryStatus, Event, Webhook, WebhookDelivery
from carebook.events.payload import body_bytes
from carebook.webhooks import sender
from carebook.webhooks.attempts import Attempt, record_attempt
from carebook.webhooks.fanout import FAN_OUT_BATCH, fan_out
from carebook.webhooks.requests import Prepared, prepare

logger = logging.getLogger("carebook.webhooks")

DELIVERY_BATCH = 50
CONCURRENT_SENDS = 4
FAN_OUT_BATCHES = 10
_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


@dataclass
class PassReport:
    """What one worker pass did."""

    fanned_out: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def _due(now: datetime) -> ColumnElement[bool]:
    earlier = aliased(WebhookDelivery)
    waits_for_earlier = exists().where(
        earlier.webhook_id == WebhookDelivery.webhook_id,
        earlier.resource_key == WebhookDelivery.resource_key,
        earlier.id < WebhookDelivery.id,
        earlier.status.in_(_OPEN),
    )
    return and_(
        or_(
            and_(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            ),
            and_(
                WebhookDelivery.status == DeliveryStatus.SENDING,
                WebhookDelivery.lease_until < now,
            ),
        ),
        ~waits_for_earlier,
    )


async def due_ids(database: Database, limit: int = DELIVERY_BATCH) -> list[int]:
    """The due deliveries, oldest first."""
    async with database.read_sessions() as session:
        query = (
            select(WebhookDelivery.id)
            .where(_due(utcnow()))
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        return list((await session.execute(query)).scalars())


async def claim(database: Database, delivery_id: int, lease: timedelta) -> int | None:
    """Take a due delivery for this worker: its attempt number, or None when not due (taken
    by another worker, done, or waiting for an earlier event of its resource)."""
    now = utcnow()
    async with database.write_sessions() as session, session.begin():
        result = await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, _due(now))
            .values(
                status=DeliveryStatus.SENDING,
                lease_until=now + lease,
                attempts=WebhookDelivery.attempts + 1,
            )
            .returning(WebhookDelivery.attempts)
            .execution_options(synchronize_session=False)
        )
        attempts = result.scalar_one_or_none()
        return None if attempts is None else int(attempts)


async def _load(
    database: Database, settings: Settings, delivery_id: int, attempt: int
) -> Prepared | None:
    """The signed request of a claimed delivery; None when its webhook is off or gone."""
    async with database.read_sessions() as session:
        row = (
            await session.execute(
                select(Event, Webhook)
                .join(WebhookDelivery, WebhookDelivery.event_id == Event.id)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.id == delivery_id)
            )
        ).one_or_none()
    if row is None:
        return None
    event, webhook = row
    if not webhook.is_enabled:
        return None
    return prepare(settings, webhook, event=event, body=body_bytes(event), attempt=attempt)


def lease_for(settings: Settings) -> timedelta:
    """How long a claim holds a delivery: twice the POST's whole timeout (which bounds it), and
    some seconds to record the outcome; a crashed worker's deliveries wait no longer than this."""
    return timedelta(seconds=settings.webhook_timeout_seconds * 2 + 10)


async def deliver_one(database: Database, settings: Settings, delivery_id: int) -> str | None:
    """Claim, send and record one delivery; its new status, or None when not claimed."""
    attempt = await claim(database, delivery_id, lease_for(settings))
    if attempt is None:
        return None
    try:
        prepared = await _load(database, settings, delivery_id, attempt)
    except (ValueError, TypeError) as error:  # a payload that cannot be built never will be
        await _give_up(database, delivery_id, type(error).__name__)
        return DeliveryStatus.FAILED
    if prepared is None:  # disabled or deleted since the event was fanned out
        await _give_up(database, delivery_id, "webhook_disabled")
        return DeliveryStatus.FAILED
    outcome = (
        await sender.post(
            prepared.url, body=prepared.body, headers=prepared.headers, settings=settings
        )
        if prepared.headers is not None
        else sender.Outcome(None, "secret_unavailable")
    )
    status = await record_attempt(
        database, settings, Attempt(delivery_id, attempt, prepared, outcome)
    )
    logger.info(
        "webhook delivery %s (event %s, webhook %s) attempt %s: %s -> %s",
        delivery_id,
        prepared.event_id,
        prepared.webhook_id,
        attempt,
        outcome.description,
        status,
    )
    return status


async def _give_up(database: Database, delivery_id: int, reason: str) -> None:
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.SENDING,
            )
            .values(status=DeliveryStatus.FAILED, lease_until=None, last_error=reason)
        )
    logger.info("webhook delivery %s not sent: %s", delivery_id, reason)


async def deliver_due(
    database: Database,
    settings: Settings,
    *,
    limit: int = DELIVERY_BATCH,
    concurrency: int = CONCURRENT_SENDS,
) -> PassReport:
    """Send the due deliveries, a few at a time (one slow receiver does not hold the rest)."""
    gate = asyncio.Semaphore(concurrency)
    report = PassReport()

    async def one(delivery_id: int) -> None:
        async with gate:
            status = await deliver_one(database, settings, delivery_id)
        if status == DeliveryStatus.DELIVERED:
            report.delivered += 1
        elif status == DeliveryStatus.PENDING:
            report.retried += 1
        elif status == DeliveryStatus.FAILED:
            report.failed += 1

    ids = await due_ids(database, limit)
    outcomes = await asyncio.gather(*(one(i) for i in ids), return_exceptions=True)
    for delivery_id, outcome in zip(ids, outcomes, strict=True):
        if isinstance(outcome, Exception):  # one delivery's fault (a database error) ends
            # only its own attempt; its lease lapses and it is tried again. The type only:
            # messages of database errors can quote parameters.
            logger.error("webhook delivery %s failed: %s", delivery_id, type(outcome).__name__)
    return report


async def run_pass(database: Database, settings: Settings) -> PassReport:
    """One worker pass: fan new events out, then deliver what is due."""
    fanned_out = 0
    for _ in range(FAN_OUT_BATCHES):  # catch up after a burst of writes, within bounds
        batch = await fan_out(database)
        fanned_out += batch.deliveries
        if batch.events < FAN_OUT_BATCH:
            break
    report = await deliver_due(database, settings)
    report.fanned_out = fanned_out
    return report
