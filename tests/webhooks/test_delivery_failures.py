"""A webhook that keeps failing: its providers are warned once, then it is disabled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

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
from carebook.notifications.models import EmailKind, OutboxMessage
from carebook.webhooks.dispatch import run_pass
from carebook.webhooks.worker import purge_sent_webhooks
from tests.support.emails import deliver, with_smtp
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.webhook_receiver import Receiver, receiving
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook, deliveries


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private_urls": True})


async def _failing_since(database: Database, hours: float) -> None:
    """Moves the clock: the open deliveries failed first ``hours`` ago and are due now."""
    now = utcnow()
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING)
            .values(first_failed_at=now - timedelta(hours=hours), next_attempt_at=now)
        )


async def _emails(database: Database) -> list[OutboxMessage]:
    async with database.read_sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        return list((await session.execute(query)).scalars())


async def _failing_hook(
    database: Database, settings: Settings, world: World, receiver: Receiver
) -> int:
    receiver.status = 500
    org = world.a.provider.organization_id
    webhook_id, _ = await add_webhook(
        database,
        settings,
        organization_id=org,
        url=receiver.url().replace("127.0.0.1", "localhost"),
        event_type=None,
        subscriptions=["patient.created"],
    )
    await add_event(database, organization_id=org)
    await run_pass(database, settings)
    return webhook_id


async def test_providers_are_warned_once_after_a_day_of_failures(
    database: Database, hook_settings: Settings, world: World
) -> None:
    async with receiving() as receiver:
        webhook_id = await _failing_hook(database, hook_settings, world, receiver)
        assert await _emails(database) == []  # one failure: no email yet
        await _failing_since(database, hook_settings.webhook_warn_after_hours + 1)
        await run_pass(database, hook_settings)
        await _failing_since(database, hook_settings.webhook_warn_after_hours + 2)
        await run_pass(database, hook_settings)
    assert len(receiver.requests) == 3
    # Sent to the address that was checked, under the URL's own host name.
    assert receiver.requests[0].headers["host"] == f"localhost:{receiver.port}"
    (warning,) = await _emails(database)
    assert warning.kind == EmailKind.WEBHOOK_FAILING
    assert warning.recipient_user_id == world.a.provider.user_id  # providers, not staff
    params = json.loads(warning.params)
    assert (params["webhook_id"], params["url_host"]) == (webhook_id, "localhost")
    async with database.read_sessions() as session:
        webhook = await session.get_one(Webhook, webhook_id)
        assert webhook.warned_at is not None and webhook.is_enabled
        (subscription,) = (await session.execute(select(WebhookSubscription))).scalars()
        assert subscription.retry_count == 3 and subscription.first_failed_at is not None
    (delivery,) = await deliveries(database)
    assert delivery.status == DeliveryStatus.PENDING


async def test_a_success_after_the_warning_clears_the_failure_state(
    database: Database, hook_settings: Settings, world: World
) -> None:
    """The failure state (the warning, the subscription's counts) that the batch of successes
    reads before its write transaction is cleared by it."""
    async with receiving() as receiver:
        webhook_id = await _failing_hook(database, hook_settings, world, receiver)
        await _failing_since(database, hook_settings.webhook_warn_after_hours + 1)
        await run_pass(database, hook_settings)
        receiver.status = 200
        await _failing_since(database, hook_settings.webhook_warn_after_hours + 2)
        report = await run_pass(database, hook_settings)
    assert report.delivered == 1
    async with database.read_sessions() as session:
        webhook = await session.get_one(Webhook, webhook_id)
        assert webhook.warned_at is None and webhook.is_enabled
        (subscription,) = (await session.execute(select(WebhookSubscription))).scalars()
        assert (subscription.retry_count, subscription.first_failed_at) == (0, None)
    (delivery,) = await deliveries(database)
    assert (delivery.status, delivery.first_failed_at) == (DeliveryStatus.DELIVERED, None)


async def test_after_the_retry_period_the_webhook_is_disabled(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        webhook_id = await _failing_hook(database, hook_settings, world, receiver)
        await add_event(database, organization_id=org, resource_id=99)
        await _failing_since(database, hook_settings.webhook_retry_period_hours + 1)
        await run_pass(database, hook_settings)
        sent = len(receiver.requests)
        await add_event(database, organization_id=org, resource_id=100)
        await _failing_since(database, 1)
        await run_pass(database, hook_settings)
    assert len(receiver.requests) == sent  # nothing more once disabled
    async with database.read_sessions() as session:
        webhook = await session.get_one(Webhook, webhook_id)
    assert not webhook.is_enabled and webhook.disabled_at is not None
    assert {d.status for d in await deliveries(database)} == {DeliveryStatus.FAILED}
    kinds = [m.kind for m in await _emails(database)]
    assert kinds == [EmailKind.WEBHOOK_DISABLED]


async def test_the_warning_email_names_the_webhook_and_its_host_only(
    database: Database, hook_settings: Settings, world: World, mailbox: Mailbox
) -> None:
    async with receiving() as receiver:
        webhook_id = await _failing_hook(database, hook_settings, world, receiver)
        await _failing_since(database, hook_settings.webhook_warn_after_hours + 1)
        await run_pass(database, hook_settings)
    report = await deliver(database, with_smtp(hook_settings, mailbox.url))
    assert report.sent == 1
    (mail,) = mailbox.received
    assert mail.rcpt_tos == ["provider.a@example.com"]
    assert mail.subject.startswith("A webhook of ") and mail.subject.endswith(" is failing")
    for part in (mail.part("plain"), mail.part("html")):
        assert f"#{webhook_id}" in part and "localhost" in part and "/hook" not in part
        assert "about 25 hours" in part


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


async def test_sent_webhooks_past_retention_are_purged(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        await add_webhook(database, hook_settings, organization_id=org, url=receiver.url())
        await add_event(database, organization_id=org, resource_id=1)
        await add_event(database, organization_id=org, resource_id=2)
        await run_pass(database, hook_settings)
    old = utcnow() - timedelta(days=hook_settings.sent_webhook_retention_days + 1)
    async with database.write_sessions() as session, session.begin():
        # The attempt of resource 1 (the two were sent concurrently: either may be logged first).
        await session.execute(
            update(SentWebhook).where(SentWebhook.resource_id == 1).values(created_at=old)
        )
    assert await purge_sent_webhooks(database, hook_settings) == 1
    async with database.read_sessions() as session:
        left = list((await session.execute(select(SentWebhook.resource_id))).scalars())
    assert left == [2]


async def test_a_webhook_turned_off_meanwhile_gets_nothing_more(
    database: Database, hook_settings: Settings, world: World
) -> None:
    async with receiving() as receiver:
        webhook_id = await _failing_hook(database, hook_settings, world, receiver)
        async with database.write_sessions() as session, session.begin():
            await session.execute(
                update(Webhook).where(Webhook.id == webhook_id).values(is_enabled=False)
            )
        await _failing_since(database, 1)
        await run_pass(database, hook_settings)
    assert len(receiver.requests) == 1
    (delivery,) = await deliveries(database)
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.FAILED, "webhook_disabled")
