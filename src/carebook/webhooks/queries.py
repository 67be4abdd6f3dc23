"""Reads of webhooks, their subscriptions and the log of sent webhooks.

Webhooks belong to an organization, not to a person, so their visibility is here rather than in
users/scoping.py: providers and staff read their own organization's, a patient none. Another
organization's webhook answers like a missing one.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from carebook.auth.actor import Actor
from carebook.events.models import SentWebhook, Webhook, WebhookSubscription


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    """A webhook with its subscriptions, and the signing secret when the write that returns it
    made one (shown once; None on every read)."""

    row: Webhook
    subscriptions: list[WebhookSubscription] = field(default_factory=list)
    secret: str | None = None


class ListOrder(enum.StrEnum):
    """Sort orders of both lists (Healthie's WebhookOrderKeys and SentWebhookOrderKeys)."""

    CREATED_AT_ASC = "created_at_asc"
    CREATED_AT_DESC = "created_at_desc"
    EVENT_TYPE_ASC = "event_type_asc"
    EVENT_TYPE_DESC = "event_type_desc"
    URL_ASC = "url_asc"
    URL_DESC = "url_desc"


def _in_org(actor: Actor, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """The actor's organization's rows; none for a patient."""
    if not actor.is_staff:
        return false()
    return column == actor.organization_id


def _terms(keywords: str | None) -> list[str]:
    return [term.lower() for term in (keywords or "").split()]


def _contains(column: Any, term: str) -> ColumnElement[bool]:
    """Case-insensitive substring, the term's % and _ taken literally."""
    return func.lower(func.coalesce(column, "")).contains(term, autoescape=True)


def _ordered(query: Select[Any], model: Any, order: ListOrder) -> Select[Any]:
    """``order`` on created_at, event_type or url, then id (a stable order for paging)."""
    name, _, direction = order.value.rpartition("_")
    key = func.coalesce(getattr(model, name), "") if name != "created_at" else model.created_at
    if direction == "desc":
        return query.order_by(key.desc(), model.id.desc())
    return query.order_by(key.asc(), model.id.asc())


async def get_webhook(session: AsyncSession, actor: Actor, webhook_id: int) -> Webhook | None:
    """The webhook if the actor may manage it, else None (unknown and foreign alike)."""
    query = select(Webhook).where(Webhook.id == webhook_id, _in_org(actor, Webhook.organization_id))
    return (await session.execute(query)).scalar_one_or_none()


async def subscriptions_of(
    session: AsyncSession, webhook_ids: Sequence[int]
) -> dict[int, list[WebhookSubscription]]:
    """Each webhook's subscriptions, oldest first (ids of webhooks already scoped)."""
    found: dict[int, list[WebhookSubscription]] = defaultdict(list)
    if not webhook_ids:
        return found
    query = (
        select(WebhookSubscription)
        .where(WebhookSubscription.webhook_id.in_(webhook_ids))
        .order_by(WebhookSubscription.id)
    )
    for row in (await session.execute(query)).scalars():
        found[row.webhook_id].append(row)
    return found


async def load_webhook(
    session: AsyncSession, actor: Actor, webhook_id: int
) -> WebhookRecord | None:
    """The webhook and its subscriptions, if the actor may manage it."""
    row = await get_webhook(session, actor, webhook_id)
    if row is None:
        return None
    return WebhookRecord(row, (await subscriptions_of(session, [row.id])).get(row.id, []))


def _webhooks(actor: Actor, keywords: str | None) -> Select[Any]:
    """The actor's webhooks whose URL or event types contain every keyword."""
    query = select(Webhook).where(_in_org(actor, Webhook.organization_id))
    for term in _terms(keywords):
        subscribed = select(WebhookSubscription.id).where(
            WebhookSubscription.webhook_id == Webhook.id,
            _contains(WebhookSubscription.event_type, term),
        )
        query = query.where(
            or_(
                _contains(Webhook.url, term),
                _contains(Webhook.event_type, term),
                subscribed.exists(),
            )
        )
    return query


async def list_webhooks(
    session: AsyncSession,
    actor: Actor,
    *,
    keywords: str | None,
    order: ListOrder,
    offset: int,
    limit: int,
) -> list[WebhookRecord]:
    """A page of the actor's webhooks, with their subscriptions."""
    query = _ordered(_webhooks(actor, keywords), Webhook, order).offset(offset).limit(limit)
    rows = list((await session.execute(query)).scalars())
    found = await subscriptions_of(session, [row.id for row in rows])
    return [WebhookRecord(row, found.get(row.id, [])) for row in rows]


async def count_webhooks(session: AsyncSession, actor: Actor, *, keywords: str | None) -> int:
    """How many webhooks :func:`list_webhooks` lists in all."""
    query = select(func.count()).select_from(_webhooks(actor, keywords).subquery())
    return int((await session.execute(query)).scalar_one())


def _sent(actor: Actor, keywords: str | None, since: datetime) -> Select[Any]:
    """The actor's organization's sent webhooks since ``since`` (the retention period), each
    keyword found in the URL, the event type or the resource type, or equal to the resource id."""
    query = select(SentWebhook).where(
        _in_org(actor, SentWebhook.organization_id), SentWebhook.created_at >= since
    )
    for term in _terms(keywords):
        matches = [
            _contains(SentWebhook.url, term),
            _contains(SentWebhook.event_type, term),
            _contains(SentWebhook.resource_id_type, term),
        ]
        if term.isascii() and term.isdigit() and len(term) <= 9:
            matches.append(SentWebhook.resource_id == int(term))
        query = query.where(or_(*matches))
    return query


async def list_sent_webhooks(
    session: AsyncSession,
    actor: Actor,
    *,
    keywords: str | None,
    since: datetime,
    order: ListOrder,
    offset: int,
    limit: int,
) -> list[SentWebhook]:
    """A page of the log of sent webhooks."""
    base = _sent(actor, keywords, since)
    query = _ordered(base, SentWebhook, order).offset(offset).limit(limit)
    return list((await session.execute(query)).scalars())


async def count_sent_webhooks(
    session: AsyncSession, actor: Actor, *, keywords: str | None, since: datetime
) -> int:
    """How many sent webhooks :func:`list_sent_webhooks` lists in all."""
    query = select(func.count()).select_from(_sent(actor, keywords, since).subquery())
    return int((await session.execute(query)).scalar_one())
