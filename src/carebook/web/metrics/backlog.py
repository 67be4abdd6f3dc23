"""Queues kept in the database, counted at scrape time: the email outbox and webhook deliveries.

They are the database's, not a process's: the scraped worker counts them (one grouped count per
table over the statuses that mean work or trouble, which their status indexes answer) and keeps
the figures a few seconds, so frequent scrapes of several workers do not each query.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from carebook.db.engine import Database
from carebook.events.models import DeliveryStatus, WebhookDelivery
from carebook.notifications.models import OutboxMessage, OutboxStatus

CACHE_SECONDS = 5.0
_OUTBOX = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)
_DELIVERIES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED)


@dataclass
class Backlog:
    """The last counts read, and when."""

    outbox: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    read_at: float | None = None

    async def refresh(self, database: Database) -> None:
        """Count again when the figures are older than CACHE_SECONDS."""
        now = time.monotonic()
        if self.read_at is not None and now - self.read_at < CACHE_SECONDS:
            return
        async with database.read_sessions() as session:
            outbox = await session.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.status.in_(_OUTBOX))
                .group_by(OutboxMessage.status)
            )
            deliveries = await session.execute(
                select(WebhookDelivery.status, func.count())
                .where(WebhookDelivery.status.in_(_DELIVERIES))
                .group_by(WebhookDelivery.status)
            )
            self.outbox = {str(s): int(n) for s, n in outbox.all()}
            self.deliveries = {str(s): int(n) for s, n in deliveries.all()}
        self.read_at = now


class BacklogCollector(Collector):
    """The backlog's figures as gauges (every status listed, zero when no row has it)."""

    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog

    def collect(self) -> Iterator[GaugeMetricFamily]:
        outbox = GaugeMetricFamily(
            "carebook_email_outbox_messages",
            "Emails in the outbox by status: pending and sending are the depth, failed the "
            "emails given up on.",
            labels=["status"],
        )
        for status in _OUTBOX:
            outbox.add_metric([status.value], self.backlog.outbox.get(status.value, 0))
        yield outbox
        deliveries = GaugeMetricFamily(
            "carebook_webhook_deliveries",
            "Webhook deliveries by status: pending and sending wait or are in flight, failed "
            "were given up on.",
            labels=["status"],
        )
        for state in _DELIVERIES:
            deliveries.add_metric([state.value], self.backlog.deliveries.get(state.value, 0))
        yield deliveries
