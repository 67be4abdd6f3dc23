"""Recording one attempt: its ``sent_webhooks`` row, then the delivery's and webhook's state.

A 2xx delivers and clears the webhook's failure state. A failure without ``should_retry`` ends
the delivery. Otherwise the delivery is tried again after an exponential, jittered delay; after
``webhook_warn_after_hours`` of failures the organization's providers are emailed once, and
after ``webhook_retry_period_hours`` the delivery fails, the webhook is disabled (its other
open deliveries fail with it) and the providers are told.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.events.models import (
    DeliveryStatus,
    SentWebhook,
    Webhook,
    WebhookDelivery,
    WebhookSubscription,
)
from carebook.notifications.models import EmailKind
from carebook.webhooks.alerts import email_providers
from carebook.webhooks.requests import Prepared
from carebook.webhooks.sender import Outcome

_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
# The Core table, for the batch INSERT of log rows.
_SENT = cast(Table, SentWebhook.__table__)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One claimed attempt of a delivery and what came of it."""

    delivery_id: int
    number: int
    prepared: Prepared
    outcome: Outcome


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """Base doubling per attempt, capped, times a random factor in [0.5, 1): retries of many
    deliveries that failed together spread out instead of arriving together."""
    ceiling = min(
        settings.webhook_retry_max_seconds,
        # The exponent is capped: past 2**32 the ceiling is long reached, and a float
        # 2**1024 overflows (attempts grow without bound on a webhook that never answers).
        settings.webhook_retry_base_seconds * 2 ** min(max(attempts - 1, 0), 32),
    )
    return timedelta(seconds=ceiling * (0.5 + random.random() / 2))  # noqa: S311 (not secret)


def _log_values(attempt: Attempt, *, alive: bool) -> dict[str, Any]:
    """The columns of :func:`log_row` for a Core INSERT; ``webhook_id`` null when the webhook
    was deleted while sending."""
    row = log_row(attempt.prepared, attempt.outcome)
    return {
        "organization_id": row.organization_id,
        "webhook_id": row.webhook_id if alive else None,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "resource_id": row.resource_id,
        "resource_id_type": row.resource_id_type,
        "url": row.url,
        "http_response_status": row.http_response_status,
        "created_at": utcnow(),
    }


def log_row(prepared: Prepared, outcome: Outcome) -> SentWebhook:
    """The attempt's ``sent_webhooks`` row (Healthie's SentWebhook): no body, no response."""
    return SentWebhook(
        organization_id=prepared.organization_id,
        webhook_id=prepared.webhook_id,
        event_id=prepared.event_id,
        event_type=prepared.event_type,
        resource_id=prepared.resource_id,
        resource_id_type=prepared.resource_id_type,
        url=prepared.url,
        http_response_status=None if outcome.status is None else str(outcome.status),
    )


async def _subscriptions(
    session: AsyncSession, webhook_id: int, event_type: str, **values: object
) -> None:
    await session.execute(
        update(WebhookSubscription)
        .where(
            WebhookSubscription.webhook_id == webhook_id,
            WebhookSubscription.event_type == event_type,
        )
        .values(**values)
    )


async def _clear_warnings(session: AsyncSession, webhook_ids: Collection[int]) -> None:
    # Conditional: a success does not lock a webhook's row unless there is a warning to clear.
    await session.execute(
        update(Webhook)
        .where(Webhook.id.in_(webhook_ids), Webhook.warned_at.is_not(None))
        .values(warned_at=None)
        .execution_options(synchronize_session=False)
    )


async def _succeeded(
    session: AsyncSession, delivery: WebhookDelivery, webhook: Webhook, prepared: Prepared
) -> str:
    now = utcnow()
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = now
    delivery.first_failed_at = None
    delivery.last_error = None
    await _clear_warnings(session, [webhook.id])
    await _subscriptions(
        session, prepared.webhook_id, prepared.event_type, first_failed_at=None, retry_count=0
    )
    return DeliveryStatus.DELIVERED


async def _first_to_set(
    session: AsyncSession, webhook_id: int, condition: Any, **values: Any
) -> bool:
    """Set ``values`` on the webhook if ``condition`` still holds; whether this did it.

    Several deliveries of one webhook are recorded concurrently (servers, or the sends of one
    pass): the one whose UPDATE matches sends the email, the others see the condition gone (on
    PostgreSQL they wait for its row lock, then re-check), so providers get one email.
    """
    result = await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, condition)
        .values(**values)
        .returning(Webhook.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None


def _other_open(session: AsyncSession, webhook_id: int, delivery_id: int) -> Any:
    """The webhook's other open deliveries; on PostgreSQL those another worker is recording
    are skipped (waiting for them while holding the webhook's row could deadlock): they find
    the webhook disabled at their next claim."""
    query = select(WebhookDelivery.id).where(
        WebhookDelivery.webhook_id == webhook_id,
        WebhookDelivery.status.in_(_OPEN),
        WebhookDelivery.id != delivery_id,
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query


async def _disable(
    session: AsyncSession, webhook: Webhook, delivery_id: int, settings: Settings
) -> None:
    if not await _first_to_set(
        session, webhook.id, Webhook.is_enabled.is_(True), is_enabled=False, disabled_at=utcnow()
    ):
        return  # already disabled, by a concurrent failure or its owner
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(_other_open(session, webhook.id, delivery_id)))
        .values(status=DeliveryStatus.FAILED, lease_until=None, last_error="webhook_disabled")
        .execution_options(synchronize_session=False)
    )
    await email_providers(
        session,
        webhook,
        kind=EmailKind.WEBHOOK_DISABLED,
        hours=settings.webhook_retry_period_hours,
    )


async def _failed(
    session: AsyncSession,
    settings: Settings,
    delivery: WebhookDelivery,
    webhook: Webhook,
    attempt: Attempt,
) -> str:
    now = utcnow()
    first: datetime = delivery.first_failed_at or now
    delivery.first_failed_at = first
    delivery.last_error = attempt.outcome.description[:200]
    await _subscriptions(
        session,
        attempt.prepared.webhook_id,
        attempt.prepared.event_type,
        first_failed_at=first,
        last_failed_at=now,
        retry_count=WebhookSubscription.retry_count + 1,
    )
    if not attempt.prepared.should_retry:
        delivery.status = DeliveryStatus.FAILED
        return DeliveryStatus.FAILED
    failing_for = now - first
    if failing_for >= timedelta(hours=settings.webhook_retry_period_hours):
        delivery.status = DeliveryStatus.FAILED
        await _disable(session, webhook, delivery.id, settings)
        return DeliveryStatus.FAILED
    if failing_for >= timedelta(hours=settings.webhook_warn_after_hours) and await _first_to_set(
        session, webhook.id, Webhook.warned_at.is_(None), warned_at=now
    ):
        await email_providers(
            session, webhook, kind=EmailKind.WEBHOOK_FAILING, hours=failing_for / timedelta(hours=1)
        )
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now + retry_delay(settings, attempt.number)
    return DeliveryStatus.PENDING


async def record_attempt(database: Database, settings: Settings, attempt: Attempt) -> str:
    """Log the attempt and move the delivery on, in a transaction of its own; its new status."""
    async with database.write_sessions() as session, session.begin():
        return await _record(session, settings, attempt)


async def record_attempts(
    database: Database, settings: Settings, attempts: Sequence[Attempt]
) -> list[str]:
    """:func:`record_attempt` of several attempts in one transaction (the worker's sends that
    ended together): one write transaction instead of one each, which on SQLite is what the
    application's own writes wait for. Their new statuses, in order.

    The successes, nearly all of them in normal running, are recorded set-wise (two statements
    for the whole batch when no webhook has failure state to clear, :func:`_record_successes`),
    with what can be read beforehand read before the transaction, so it holds the write lock
    briefly; each failure goes through :func:`_record` (retries, warning, disabling).
    """
    successes = [(i, a) for i, a in enumerate(attempts) if a.outcome.delivered]
    state = await _failure_state(database, [attempt for _, attempt in successes])
    statuses: dict[int, str] = {}
    async with database.write_sessions() as session, session.begin():
        statuses.update(await _record_successes(session, successes, state))
        for index, attempt in enumerate(attempts):
            if not attempt.outcome.delivered:
                statuses[index] = await _record(session, settings, attempt)
    return [statuses[index] for index in range(len(attempts))]


@dataclass(frozen=True, slots=True)
class _FailureState:
    """What a batch of successes finds of its webhooks, read before its write transaction."""

    alive: frozenset[int] = frozenset()  # the webhooks not deleted
    warned: frozenset[int] = frozenset()  # those with a failure warning to clear
    failing: frozenset[tuple[int, str]] = frozenset()  # subscriptions with failures counted


# Statements built once (building them was a good part of a record's CPU); ids bound.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_WEBHOOKS_WARNED = select(Webhook.id, Webhook.warned_at.is_not(None)).where(Webhook.id.in_(_IDS))
_FAILING_SUBSCRIPTIONS = select(
    WebhookSubscription.webhook_id, WebhookSubscription.event_type
).where(
    WebhookSubscription.webhook_id.in_(_IDS),
    or_(WebhookSubscription.first_failed_at.is_not(None), WebhookSubscription.retry_count != 0),
)
# The deliveries still held by the attempts: ids bound as ``ids``, (id, attempt number) pairs
# as ``held``. The ids are what the plan searches by: SQLite matches ``(id, attempts) IN
# (VALUES ...)`` alone by scanning the whole table (tests/webhooks/test_record_plan.py).
_DELIVERED = (
    update(WebhookDelivery)
    .where(
        WebhookDelivery.id.in_(_IDS),
        tuple_(WebhookDelivery.id, WebhookDelivery.attempts).in_(bindparam("held", expanding=True)),
        WebhookDelivery.status == DeliveryStatus.SENDING,
    )
    .values(
        status=DeliveryStatus.DELIVERED,
        delivered_at=bindparam("at", type_=WebhookDelivery.delivered_at.type),
        first_failed_at=None,
        last_error=None,
        lease_until=None,
    )
    .returning(WebhookDelivery.id, WebhookDelivery.attempts)
    .execution_options(synchronize_session=False)
)


async def _failure_state(database: Database, attempts: Sequence[Attempt]) -> _FailureState:
    """Read, outside the write transaction, which of the attempts' webhooks exist and which
    have failure state: in normal running none has, and the write then clears nothing."""
    webhook_ids = sorted({attempt.prepared.webhook_id for attempt in attempts})
    if not webhook_ids:
        return _FailureState()
    async with database.read_sessions() as session:
        webhooks = (await session.execute(_WEBHOOKS_WARNED, {"ids": webhook_ids})).all()
        failing = (await session.execute(_FAILING_SUBSCRIPTIONS, {"ids": webhook_ids})).all()
    return _FailureState(
        alive=frozenset(int(row[0]) for row in webhooks),
        warned=frozenset(int(row[0]) for row in webhooks if row[1]),
        failing=frozenset((int(row[0]), str(row[1])) for row in failing),
    )


async def _record_successes(
    session: AsyncSession, placed: Sequence[tuple[int, Attempt]], state: _FailureState
) -> dict[int, str]:
    """Record delivered attempts (each with its place in the batch) together: their log rows,
    the deliveries these attempts still hold marked delivered in one UPDATE, and the webhooks'
    failure state (warning, subscriptions' failure counts) cleared where ``state`` found any,
    as :func:`_succeeded` does one by one. A delivery whose claim was lost meanwhile (its lease
    lapsed and another attempt took it), or whose webhook was deleted (its deliveries went
    with it), gets its log row only, as in :func:`_record`. The new statuses by place.

    ``state`` was read before the transaction: failure state set since (a failure of the same
    webhook recorded meanwhile) is cleared by the webhook's next success; a webhook deleted
    since makes the log rows' INSERT fail, and the Recorder then records each attempt alone.
    """
    if not placed:
        return {}
    attempts = [attempt for _, attempt in placed]
    # One INSERT for the batch's log rows (the ORM would send one per row on SQLite).
    await session.execute(
        insert(_SENT),
        [
            _log_values(attempt, alive=attempt.prepared.webhook_id in state.alive)
            for attempt in attempts
        ],
    )
    held = [(attempt.delivery_id, attempt.number) for attempt in attempts]
    ids = sorted({delivery_id for delivery_id, _ in held})
    result = await session.execute(_DELIVERED, {"ids": ids, "held": held, "at": utcnow()})
    # By (id, attempt): a stale attempt of a delivery claimed again is not the one recorded.
    won_pairs = {(int(row.id), int(row.attempts)) for row in result}
    won = [a for a in attempts if (a.delivery_id, a.number) in won_pairs]
    await _clear_failures(session, won, state)
    return {
        place: DeliveryStatus.DELIVERED
        if (attempt.delivery_id, attempt.number) in won_pairs
        else DeliveryStatus.SENDING
        for place, attempt in placed
    }


async def _clear_failures(
    session: AsyncSession, won: Sequence[Attempt], state: _FailureState
) -> None:
    """Clear the warning and failure counts that ``state`` found on the webhooks and
    subscriptions of the recorded successes ``won`` (conditional, as :func:`_succeeded`)."""
    warned = {attempt.prepared.webhook_id for attempt in won} & state.warned
    if warned:
        await _clear_warnings(session, sorted(warned))
    failing = {(a.prepared.webhook_id, a.prepared.event_type) for a in won} & state.failing
    for webhook_id, event_type in sorted(failing):
        await _subscriptions(session, webhook_id, event_type, first_failed_at=None, retry_count=0)


async def _record(session: AsyncSession, settings: Settings, attempt: Attempt) -> str:
    """Log the attempt and move the delivery on; its new status.

    When the claim was lost meanwhile (the lease lapsed and another worker took the delivery),
    only the log row is written: the newer attempt owns the delivery's state.
    """
    delivery = await session.get(WebhookDelivery, attempt.delivery_id)
    webhook = await session.get(Webhook, attempt.prepared.webhook_id)
    row = log_row(attempt.prepared, attempt.outcome)
    row.webhook_id = None if webhook is None else webhook.id  # deleted while sending
    session.add(row)
    if (
        delivery is None
        or webhook is None
        or delivery.status != DeliveryStatus.SENDING
        or delivery.attempts != attempt.number
    ):
        return DeliveryStatus.SENDING
    delivery.lease_until = None
    if attempt.outcome.delivered:
        return await _succeeded(session, delivery, webhook, attempt.prepared)
    return await _failed(session, settings, delivery, webhook, attempt)
