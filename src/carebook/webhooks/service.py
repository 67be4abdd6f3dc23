"""Writes of webhooks: create, update, delete, and rotate the signing secret.

Services take a session and an actor, flush but never commit (the request owns the
transaction), and raise :class:`carebook.errors.Invalid` for anything the caller got wrong.
Only providers and staff manage their organization's webhooks; another organization's webhook
answers like a missing one.

The URL is checked (its form, then its host resolved to allowed addresses, webhooks/urls.py)
before the first statement of the transaction, so a slow DNS answer does not hold the write
lock. Webhooks are not patient records and their events carry ids only, so these writes add
nothing to the audit trail (docs/webhooks.md, Managing webhooks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor, require_staff
from carebook.errors import FieldMessage, Invalid, NotFound
from carebook.events.catalog import EVENT_TYPES
from carebook.events.models import Webhook, WebhookSubscription
from carebook.users.lookup import found
from carebook.users.validation import parse_id
from carebook.webhooks import queries, urls
from carebook.webhooks.inputs import (
    EventSubscription,
    NewWebhook,
    WebhookChanges,
    WebhookFields,
    WebhookRules,
)
from carebook.webhooks.queries import WebhookRecord
from carebook.webhooks.secrets import new_secret, seal

T = TypeVar("T")

WEBHOOK_NOT_FOUND = "Webhook not found"
EVENT_NOT_FOUND = "Webhook event not found"
URL_BLANK = "Url can't be blank"
NO_EVENTS = "Choose at least one event type, in event_type or webhook_events"
EVENTS_FIELD = "webhook_events"


@dataclass(frozen=True, slots=True)
class _Checked:
    """The input's values after the checks that need no database."""

    url: str | None
    event_type: str | None
    entries: list[tuple[int | None, str]] | None


async def _collect(work: Awaitable[T], problems: list[FieldMessage]) -> T | None:
    """The result of ``work``, or None with its messages added to ``problems``."""
    try:
        return await work
    except Invalid as error:
        problems.extend(error.messages)
        return None


def _collect_now(work: Callable[[], T], problems: list[FieldMessage]) -> T | None:
    """:func:`_collect` of a check that needs no waiting."""
    try:
        return work()
    except Invalid as error:
        problems.extend(error.messages)
        return None


async def _checked_url(url: str, rules: WebhookRules) -> str:
    """The URL, stripped, if webhooks may be sent to it."""
    clean = url.strip()
    if not clean:
        raise Invalid.field("url", URL_BLANK)
    try:
        await urls.resolve(clean, allow_private=rules.allow_private, seconds=rules.lookup_seconds)
    except urls.UnsafeUrl as error:
        raise Invalid.field("url", f"Url {error}") from None
    return clean


def _event_type(value: str, field_name: str) -> str:
    """A name of the catalog (events/catalog.py), stripped and lower-cased."""
    name = value.strip().lower()
    if name not in EVENT_TYPES:
        shown = value.strip()[:64]
        raise Invalid.field(
            field_name, f"'{shown}' is not a webhook event type (webhookEventTypes)"
        )
    return name


def _entries(items: Iterable[EventSubscription]) -> list[tuple[int | None, str]]:
    """webhook_events as (subscription id or None, event type); each type at most once."""
    entries: list[tuple[int | None, str]] = []
    problems: list[FieldMessage] = []
    for item in items:
        try:
            entry = (
                parse_id(item.id, EVENTS_FIELD),
                _event_type(item.event_type or "", EVENTS_FIELD),
            )
        except Invalid as error:
            problems.extend(error.messages)
            continue
        if any(kind == entry[1] for _, kind in entries):
            problems.append(FieldMessage(EVENTS_FIELD, f"'{entry[1]}' is listed twice"))
        entries.append(entry)
    if problems:
        raise Invalid(*problems)
    return entries


async def _check(fields: WebhookFields, rules: WebhookRules) -> _Checked:
    """Every check of the input that needs no database, all problems at once."""
    problems: list[FieldMessage] = []
    url = event_type = entries = None
    if fields.url is not None:
        url = await _collect(_checked_url(fields.url, rules), problems)
    # "" clears the webhook's own event type (its subscriptions stay).
    if fields.event_type is not None and fields.event_type.strip():
        event_type = _collect_now(
            lambda: _event_type(fields.event_type or "", "event_type"), problems
        )
    elif fields.event_type is not None:
        event_type = ""
    if fields.webhook_events is not None:
        entries = _collect_now(lambda: _entries(fields.webhook_events or ()), problems)
    if problems:
        raise Invalid(*problems)
    return _Checked(url, event_type, entries)


async def _webhook(session: AsyncSession, actor: Actor, raw_id: str | int | None) -> Webhook:
    return await found(
        raw_id,
        lambda webhook_id: queries.get_webhook(session, actor, webhook_id),
        field="id",
        missing=WEBHOOK_NOT_FOUND,
    )


async def _subscriptions(session: AsyncSession, webhook: Webhook) -> list[WebhookSubscription]:
    return (await queries.subscriptions_of(session, [webhook.id])).get(webhook.id, [])


def _issue_secret(webhook: Webhook, rules: WebhookRules) -> str:
    """A new signing secret for the (flushed) webhook: stored sealed, returned to show once."""
    secret = new_secret()
    webhook.secret_sealed = seal(secret, secret_key=rules.secret_key, webhook_id=webhook.id)
    return secret


async def create_webhook(
    session: AsyncSession, *, actor: Actor, fields: NewWebhook, rules: WebhookRules
) -> WebhookRecord:
    """A webhook of the caller's organization, enabled unless is_enabled is false, receiving
    its event_type and the types of its webhook_events; with a new signing secret."""
    require_staff(actor)
    problems: list[FieldMessage] = []
    if fields.url is None:
        problems.append(FieldMessage("url", URL_BLANK))
    checked = await _collect(_check(fields, rules), problems)
    if checked is not None:
        entries = checked.entries or []
        if any(entry_id is not None for entry_id, _ in entries):
            problems.append(FieldMessage(EVENTS_FIELD, "A new webhook's events have no id yet"))
        if not checked.event_type and not entries:
            problems.append(FieldMessage("event_type", NO_EVENTS))
    if problems:
        raise Invalid(*problems)
    assert checked is not None and checked.url is not None
    webhook = Webhook(
        organization_id=actor.organization_id,
        url=checked.url,
        event_type=checked.event_type or None,
        is_enabled=fields.is_enabled is not False,
        should_retry=fields.should_retry is not False,
        secret_sealed="",  # sealed with the webhook's id, known after the flush
        created_by_id=actor.user_id,
    )
    session.add(webhook)
    await session.flush()
    secret = _issue_secret(webhook, rules)
    added = [WebhookSubscription(webhook_id=webhook.id, event_type=kind) for _, kind in entries]
    session.add_all(added)
    await session.flush()
    return WebhookRecord(webhook, added, secret)


async def _replace_subscriptions(
    session: AsyncSession, webhook: Webhook, entries: list[tuple[int | None, str]]
) -> list[WebhookSubscription]:
    """Make the webhook's subscriptions the list given: an entry with an id changes that one,
    one without adds one, and a subscription the list leaves out is deleted."""
    current = {row.id: row for row in await _subscriptions(session, webhook)}
    unknown = [
        entry_id for entry_id, _ in entries if entry_id is not None and entry_id not in current
    ]
    if unknown:
        raise NotFound.field(EVENTS_FIELD, f"{EVENT_NOT_FOUND}: {unknown[0]}")
    kept: list[WebhookSubscription] = []
    for entry_id, kind in entries:
        row = current.pop(entry_id) if entry_id is not None else None
        if row is None:
            row = WebhookSubscription(webhook_id=webhook.id, event_type=kind)
            session.add(row)
        row.event_type = kind
        kept.append(row)
    for gone in current.values():
        await session.delete(gone)
    await session.flush()
    return sorted(kept, key=lambda row: row.id)


async def update_webhook(
    session: AsyncSession, *, actor: Actor, fields: WebhookChanges, rules: WebhookRules
) -> WebhookRecord:
    """Change the given fields; webhook_events, when given, is the whole new list. Enabling a
    disabled webhook clears when it was disabled and warned."""
    require_staff(actor)
    problems: list[FieldMessage] = []
    checked = await _collect(_check(fields, rules), problems)  # before any statement (DNS)
    webhook = await _collect(_webhook(session, actor, fields.id), problems)
    if problems:
        raise Invalid(*problems)
    assert checked is not None and webhook is not None
    if checked.url is not None:
        webhook.url = checked.url
    if checked.event_type is not None:
        webhook.event_type = checked.event_type or None
    if fields.should_retry is not None:
        webhook.should_retry = fields.should_retry
    if fields.is_enabled is not None:
        if fields.is_enabled and not webhook.is_enabled:
            webhook.disabled_at = webhook.warned_at = None
        webhook.is_enabled = fields.is_enabled
    if checked.entries is not None:
        subscriptions = await _replace_subscriptions(session, webhook, checked.entries)
    else:
        subscriptions = await _subscriptions(session, webhook)
    await session.flush()
    return WebhookRecord(webhook, subscriptions)


async def delete_webhook(
    session: AsyncSession, *, actor: Actor, webhook_id: str | int | None
) -> WebhookRecord:
    """Delete a webhook: its subscriptions and pending deliveries go with it, its log of sent
    webhooks stays (without the webhook's id)."""
    require_staff(actor)
    webhook = await _webhook(session, actor, webhook_id)
    subscriptions = await _subscriptions(session, webhook)
    await session.delete(webhook)
    await session.flush()
    return WebhookRecord(webhook, subscriptions)


async def expire_signature(
    session: AsyncSession, *, actor: Actor, webhook_id: str | int | None, rules: WebhookRules
) -> WebhookRecord:
    """Replace the webhook's signing secret with a new one (shown once); the old one no longer
    signs anything from this moment."""
    require_staff(actor)
    webhook = await _webhook(session, actor, webhook_id)
    secret = _issue_secret(webhook, rules)
    await session.flush()
    return WebhookRecord(webhook, await _subscriptions(session, webhook), secret)
