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

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    CompoundSelect,
    and_,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement

from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.events.models import DeliveryStatus, Event, Webhook, WebhookDelivery
from carebook.events.payload import body_bytes
from carebook.webhooks import sender
from carebook.webhooks.attempts import Attempt, record_attempt
from carebook.webhooks.connections import Connections
from carebook.webhooks.requests import Prepared, prepare

logger = logging.getLogger("carebook.webhooks")

DELIVERY_BATCH = 50
# A webhook's deliveries in one pass, and in flight at once: a receiver that hangs holds at
# most this many of the worker's sends.
PER_WEBHOOK = 4
_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def _waits_for_earlier() -> ColumnElement[bool]:
    earlier = aliased(WebhookDelivery)
    return exists().where(
        earlier.webhook_id == WebhookDelivery.webhook_id,
        earlier.resource_key == WebhookDelivery.resource_key,
        earlier.id < WebhookDelivery.id,
        earlier.status.in_(_OPEN),
    )


def _due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
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
        ~_waits_for_earlier(),
    )


async def due_ids(
    database: Database, limit: int = DELIVERY_BATCH, per_webhook: int = PER_WEBHOOK
) -> list[int]:
    """The due deliveries, at most ``per_webhook`` of each webhook, each webhook's oldest first:
    a webhook with a long backlog (or a receiver that keeps failing, whose retries keep their
    low ids) takes its share of a pass, not all of it."""
    return [delivery_id for delivery_id, _ in await due_rows(database, limit, per_webhook)]


def _due_rows_query(postgresql: bool) -> CompoundSelect[int, int, datetime]:
    """:func:`due_rows`' statement; parameters ``now`` and ``per_webhook``.

    Each webhook's first ``per_webhook`` due pending deliveries, read in the order of the partial
    index ``ix_webhook_deliveries_pending_due`` (webhook, due time, id; migration 0037), so
    its cost follows the webhooks and ``per_webhook``, not the backlog (windowing every open
    delivery cost 41-72 ms of CPU at 23,172 pending on SQLite); plus the sends whose lease
    lapsed (a crashed worker's, a few at most). The status is a literal, not a parameter: only
    then may SQLite (and PostgreSQL's generic plans) use the partial index.
    """
    now = bindparam("now", type_=WebhookDelivery.next_attempt_at.type)
    pending_due = (
        select(WebhookDelivery.id, WebhookDelivery.webhook_id, WebhookDelivery.next_attempt_at)
        .where(
            WebhookDelivery.webhook_id == Webhook.id,
            WebhookDelivery.status == literal_column(f"'{DeliveryStatus.PENDING.value}'"),
            WebhookDelivery.next_attempt_at <= now,
            ~_waits_for_earlier(),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(bindparam("per_webhook"))
    )
    if postgresql:  # a lateral join: one index range per webhook
        due = pending_due.lateral("due")
        per_webhook = select(due.c.id, due.c.webhook_id, due.c.next_attempt_at).select_from(
            Webhook.__table__.join(due, true())
        )
    else:  # SQLite has no LATERAL: the picked ids by a correlated subquery per webhook
        picked = aliased(WebhookDelivery, name="picked")
        per_webhook = select(picked.id, picked.webhook_id, picked.next_attempt_at).select_from(
            Webhook.__table__.join(
                picked, picked.id.in_(pending_due.with_only_columns(WebhookDelivery.id))
            )
        )
    lapsed = select(
        WebhookDelivery.id, WebhookDelivery.webhook_id, WebhookDelivery.next_attempt_at
    ).where(
        WebhookDelivery.status == DeliveryStatus.SENDING,
        WebhookDelivery.lease_until < now,
        ~_waits_for_earlier(),
    )
    return union_all(per_webhook, lapsed)


async def due_rows(
    database: Database, limit: int, per_webhook: int, busy: Mapping[int, int] | None = None
) -> list[tuple[int, int]]:
    """(delivery id, webhook id) of :func:`due_ids`; ``busy``: sends already in flight per
    webhook, which count against its ``per_webhook``."""
    # Built once per Database: every write wakes the dispatcher, which asks this each time.
    postgresql = database.engine.dialect.name == "postgresql"
    query = database.statement(_due_rows_query, lambda: _due_rows_query(postgresql))
    async with database.read_sessions() as session:
        rows = (await session.execute(query, {"now": utcnow(), "per_webhook": per_webhook})).all()
    of_webhook: dict[int, list[tuple[datetime, int]]] = {}
    for delivery_id, webhook_id, due_at in rows:
        of_webhook.setdefault(int(webhook_id), []).append((due_at, int(delivery_id)))
    busy = busy or {}
    ranked = [
        (rank, delivery_id, webhook_id)
        for webhook_id, due in of_webhook.items()
        for rank, (_, delivery_id) in enumerate(sorted(due), start=1)
        if rank + busy.get(webhook_id, 0) <= per_webhook
    ]
    return [(delivery_id, webhook_id) for _, delivery_id, webhook_id in sorted(ranked)][:limit]


def _claim_statement() -> Update:
    """:func:`claim_many`'s UPDATE, built once (its ``_due`` condition, with the earlier-open
    check, cost a tenth of the delivery process's loop to build at every claim); parameters
    ``ids``, ``now`` and ``lease_end``."""
    now = bindparam("now", type_=WebhookDelivery.next_attempt_at.type)
    return (
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(bindparam("ids", expanding=True)), _due(now))
        .values(
            status=DeliveryStatus.SENDING,
            lease_until=bindparam("lease_end", type_=WebhookDelivery.lease_until.type),
            attempts=WebhookDelivery.attempts + 1,
        )
        .returning(WebhookDelivery.id, WebhookDelivery.attempts)
        .execution_options(synchronize_session=False)
    )


_CLAIM = _claim_statement()


async def claim_many(
    database: Database, delivery_ids: Sequence[int], lease: timedelta
) -> dict[int, int]:
    """Take due deliveries for this worker in one statement: the attempt number of each one
    taken; one not due (taken by another worker, done, or waiting for an earlier event of its
    resource) is left out."""
    if not delivery_ids:
        return {}
    now = utcnow()
    parameters = {"ids": list(delivery_ids), "now": now, "lease_end": now + lease}
    async with database.write_sessions() as session, session.begin():
        result = await session.execute(_CLAIM, parameters)
        return {int(row.id): int(row.attempts) for row in result}


async def claim(database: Database, delivery_id: int, lease: timedelta) -> int | None:
    """Take a due delivery for this worker: its attempt number, or None when not due."""
    return (await claim_many(database, [delivery_id], lease)).get(delivery_id)


# load_many's statement, built once; parameter ``ids``.
_CLAIMED = (
    select(WebhookDelivery.id, Event, Webhook)
    .join(Event, WebhookDelivery.event_id == Event.id)
    .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
    .where(WebhookDelivery.id.in_(bindparam("ids", expanding=True)))
)


async def load_many(
    database: Database, settings: Settings, claimed: Mapping[int, int]
) -> dict[int, Prepared | str]:
    """The signed request of each claimed delivery, or why it cannot be sent (its webhook is
    off or gone, or its payload cannot be built)."""
    async with database.read_sessions() as session:
        rows = (await session.execute(_CLAIMED, {"ids": list(claimed)})).all()
    loaded: dict[int, Prepared | str] = dict.fromkeys(claimed, "webhook_disabled")
    for delivery_id, event, webhook in rows:
        if not webhook.is_enabled:
            continue
        try:
            loaded[delivery_id] = prepare(
                settings, webhook, event=event, body=body_bytes(event), attempt=claimed[delivery_id]
            )
        except (ValueError, TypeError) as error:  # a payload that cannot be built never will be
            loaded[delivery_id] = type(error).__name__
    return loaded


def lease_for(settings: Settings) -> timedelta:
    """How long a claim holds a delivery: twice the POST's whole timeout (which bounds it), and
    some seconds to record the outcome (CAREBOOK_WEBHOOK_LEASE_MARGIN_SECONDS); a crashed
    worker's deliveries wait no longer than this."""
    margin = settings.webhook_lease_margin_seconds
    return timedelta(seconds=settings.webhook_timeout_seconds * 2 + margin)


async def deliver_one(database: Database, settings: Settings, delivery_id: int) -> str | None:
    """Claim, send and record one delivery; its new status, or None when not claimed."""
    attempt = await claim(database, delivery_id, lease_for(settings))
    if attempt is None:
        return None
    loaded = await load_many(database, settings, {delivery_id: attempt})
    return await send_claimed(database, settings, delivery_id, attempt, loaded[delivery_id])


async def send_claimed(
    database: Database,
    settings: Settings,
    delivery_id: int,
    attempt: int,
    request: Prepared | str,
    connections: Connections | None = None,
    record: Callable[[Attempt], Awaitable[str]] | None = None,
) -> str:
    """Send a claimed delivery's request (or give it up: ``request`` is then why) and record
    the outcome (with ``record``, by default in a transaction of its own); its new status."""
    if isinstance(request, str):
        await _give_up(database, delivery_id, request)
        return DeliveryStatus.FAILED
    outcome = (
        await sender.post(
            request.url,
            body=request.body,
            headers=request.headers,
            settings=settings,
            connections=connections,
            lane=request.webhook_id,
        )
        if request.headers is not None
        else sender.Outcome(None, "secret_unavailable")
    )
    done = Attempt(delivery_id, attempt, request, outcome)
    status = await (record(done) if record else record_attempt(database, settings, done))
    logger.info(
        "webhook delivery %s (event %s, webhook %s) attempt %s: %s -> %s",
        delivery_id,
        request.event_id,
        request.webhook_id,
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
