"""Events reach a real HTTP receiver: signed, once, in order, only the organization's own."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.events.models import DeliveryStatus, Event, SentWebhook, WebhookDelivery
from carebook.events.payload import body_bytes
from carebook.webhooks.attempts import Attempt, record_attempts
from carebook.webhooks.delivery import claim_many, lease_for, load_many
from carebook.webhooks.dispatch import deliver_due, run_pass
from carebook.webhooks.fanout import fan_out
from carebook.webhooks.requests import Prepared
from carebook.webhooks.sender import Outcome
from carebook.webhooks.worker import start_worker
from tests.support.api import Api
from tests.support.emails import create_client
from tests.support.webhook_receiver import receiving
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook, deliveries, poll_until, verify


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    """Loopback receivers allowed (the SSRF guard's test switch)."""
    return settings.model_copy(update={"webhook_allow_private_urls": True})


async def test_an_event_is_delivered_signed_with_its_thin_payload(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        webhook_id, secret = await add_webhook(
            database, hook_settings, organization_id=org, url=receiver.url("/hook?src=cb")
        )
        event_id = await add_event(database, organization_id=org, resource_id=world.a.patient_id)
        report = await run_pass(database, hook_settings)
    assert (report.fanned_out, report.delivered) == (1, 1)
    (request,) = receiver.requests
    assert request.method == "POST" and request.target == "/hook?src=cb"
    assert json.loads(request.body) == {
        "resource_id": world.a.patient_id,
        "resource_id_type": "User",
        "event_type": "patient.created",
        "changed_fields": [],
    }
    async with database.read_sessions() as session:
        event = await session.get_one(Event, event_id)
        assert request.body == body_bytes(event)
        assert event.dispatched
    digest = base64.b64encode(hashlib.sha256(request.body).digest()).decode()
    assert request.headers["content-digest"] == f"sha-256=:{digest}:"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-carebook-event-id"] == str(event_id)
    parameters = verify(request, port=receiver.port, secret=secret)
    assert parameters["alg"] == "hmac-sha256" and parameters["keyid"] == f"webhook-{webhook_id}"
    with pytest.raises(Exception):  # noqa: B017 (any refusal of the library)
        verify(request, port=receiver.port, secret="another secret")
    (delivery,) = await deliveries(database)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    async with database.read_sessions() as session:
        (logged,) = (await session.execute(select(SentWebhook))).scalars()
    assert (logged.event_id, logged.webhook_id, logged.http_response_status) == (
        event_id,
        webhook_id,
        "200",
    )
    assert (logged.event_type, logged.resource_id, logged.resource_id_type) == (
        "patient.created",
        world.a.patient_id,
        "User",
    )


async def test_only_the_organizations_subscribed_webhooks_get_an_event(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org_a, org_b = world.a.provider.organization_id, world.b.provider.organization_id
    async with receiving() as a, receiving() as b, receiving() as other_type:
        await add_webhook(
            database,
            hook_settings,
            organization_id=org_a,
            url=a.url(),
            event_type=None,
            subscriptions=["location.created", "patient.updated"],
        )
        await add_webhook(
            database,
            hook_settings,
            organization_id=org_b,
            url=b.url(),
            event_type="patient.updated",
        )
        await add_webhook(database, hook_settings, organization_id=org_a, url=other_type.url())
        await add_event(database, organization_id=org_a, event_type="patient.updated")
        await run_pass(database, hook_settings)
    assert len(a.requests) == 1
    assert json.loads(a.requests[0].body)["event_type"] == "patient.updated"
    assert b.requests == [] and b.connections == 0
    assert other_type.requests == []


async def test_a_failure_is_retried_later_and_a_success_clears_it(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        receiver.statuses = [500]
        await add_webhook(database, hook_settings, organization_id=org, url=receiver.url())
        await add_event(database, organization_id=org)
        before = utcnow()
        report = await run_pass(database, hook_settings)
        assert report.retried == 1
        (delivery,) = await deliveries(database)
        assert delivery.status == DeliveryStatus.PENDING and delivery.last_error == "500"
        # The first retry waits between half and all of the base delay (jitter).
        base = timedelta(seconds=hook_settings.webhook_retry_base_seconds)
        assert before + base / 2 <= delivery.next_attempt_at
        assert delivery.first_failed_at is not None
        await run_pass(database, hook_settings)
        assert len(receiver.requests) == 1  # not due yet
        await _make_due(database)
        report = await run_pass(database, hook_settings)
    assert report.delivered == 1 and len(receiver.requests) == 2
    assert receiver.requests[1].headers["x-carebook-delivery-attempt"] == "2"
    (delivery,) = await deliveries(database)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.first_failed_at is None
    async with database.read_sessions() as session:
        statuses = (await session.execute(select(SentWebhook.http_response_status))).scalars()
        assert sorted(statuses) == ["200", "500"]


async def _make_due(database: Database) -> None:
    """Moves the clock: every pending delivery's next attempt is now."""
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


async def test_without_should_retry_one_failure_ends_the_delivery(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        receiver.status = 503
        await add_webhook(
            database, hook_settings, organization_id=org, url=receiver.url(), should_retry=False
        )
        await add_event(database, organization_id=org)
        report = await run_pass(database, hook_settings)
        await _make_due(database)
        await run_pass(database, hook_settings)
    assert report.failed == 1 and len(receiver.requests) == 1
    (delivery,) = await deliveries(database)
    assert delivery.status == DeliveryStatus.FAILED


async def test_a_redirect_is_a_failure_and_is_not_followed(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        receiver.status, receiver.location = 302, receiver.url("/elsewhere")
        await add_webhook(database, hook_settings, organization_id=org, url=receiver.url())
        await add_event(database, organization_id=org)
        report = await run_pass(database, hook_settings)
    assert report.retried == 1
    assert [r.target for r in receiver.requests] == ["/hook"]
    (delivery,) = await deliveries(database)
    assert delivery.last_error == "302"


async def test_a_private_address_is_refused_before_any_connection(
    database: Database, settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        # https and a loopback address: the shape passes, the address check refuses it.
        url = f"https://127.0.0.1:{receiver.port}/hook"
        await add_webhook(database, settings, organization_id=org, url=url)
        await add_event(database, organization_id=org)
        report = await run_pass(database, settings)
    assert report.retried == 1
    assert receiver.connections == 0
    (delivery,) = await deliveries(database)
    assert delivery.last_error == "unsafe_url"
    async with database.read_sessions() as session:
        (logged,) = (await session.execute(select(SentWebhook))).scalars()
    assert logged.http_response_status is None


async def test_concurrent_passes_send_each_event_once(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        await add_webhook(database, hook_settings, organization_id=org, url=receiver.url())
        for resource_id in range(1, 7):
            await add_event(database, organization_id=org, resource_id=resource_id)
        await asyncio.gather(*(run_pass(database, hook_settings) for _ in range(3)))
        await asyncio.gather(*(deliver_due(database, hook_settings) for _ in range(3)))
    sent = sorted(json.loads(r.body)["resource_id"] for r in receiver.requests)
    assert sent == [1, 2, 3, 4, 5, 6]
    assert len(await deliveries(database)) == 6


async def test_a_resources_later_event_waits_for_its_earlier_one(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        receiver.statuses = [500]
        await add_webhook(
            database,
            hook_settings,
            organization_id=org,
            url=receiver.url(),
            event_type=None,
            subscriptions=["patient.created", "patient.updated"],
        )
        await add_event(database, organization_id=org, resource_id=1)
        await add_event(database, organization_id=org, event_type="patient.updated", resource_id=1)
        await add_event(database, organization_id=org, resource_id=2)
        await fan_out(database)
        # One send at a time, oldest first: the failure (the first answer) is resource 1's.
        await deliver_due(database, hook_settings, concurrency=1)
        first_round = [
            (json.loads(r.body)["resource_id"], json.loads(r.body)["event_type"])
            for r in receiver.requests
        ]
        await _make_due(database)
        await run_pass(database, hook_settings)
        await run_pass(database, hook_settings)
    # Resource 1's update is not sent while its creation is still failing; resource 2 goes on.
    assert first_round == [(1, "patient.created"), (2, "patient.created")]
    sent = [
        (json.loads(r.body)["resource_id"], json.loads(r.body)["event_type"])
        for r in receiver.requests
    ]
    assert sent[2:] == [(1, "patient.created"), (1, "patient.updated")]


async def test_a_lapsed_lease_is_sent_again(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        await add_webhook(database, hook_settings, organization_id=org, url=receiver.url())
        await add_event(database, organization_id=org)
        await run_pass(database, hook_settings)
        # A worker that claimed it and died before recording: the lease ran out.
        async with database.write_sessions() as session, session.begin():
            await session.execute(
                update(WebhookDelivery).values(
                    status=DeliveryStatus.SENDING, lease_until=utcnow() - timedelta(seconds=1)
                )
            )
        await run_pass(database, hook_settings)
    assert len(receiver.requests) == 2
    first, again = receiver.requests
    assert first.headers["x-carebook-event-id"] == again.headers["x-carebook-event-id"]
    (delivery,) = await deliveries(database)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2


async def test_the_worker_delivers_on_its_own_and_an_unsendable_event_fails_alone(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    fast = hook_settings.model_copy(update={"webhook_poll_seconds": 0.05})
    async with receiving() as receiver:
        await add_webhook(database, fast, organization_id=org, url=receiver.url())
        # An event whose payload cannot be built (a damaged row): it fails, the others go on.
        async with database.write_sessions() as session, session.begin():
            session.add(
                Event(
                    organization_id=org,
                    event_type="patient.created",
                    resource_type="User",
                    resource_id=1,
                    changed_fields="not json",
                    dispatched=False,
                )
            )
        await add_event(database, organization_id=org, resource_id=2)
        settled = {DeliveryStatus.DELIVERED, DeliveryStatus.FAILED}

        async def both_settled() -> bool:
            found = await deliveries(database)
            return len(found) == 2 and {d.status for d in found} <= settled

        worker = start_worker(database, fast)
        try:
            await poll_until(both_settled, alive=worker)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
    assert [json.loads(r.body)["resource_id"] for r in receiver.requests] == [2]
    statuses = [(d.resource_key, d.status, d.last_error) for d in await deliveries(database)]
    assert statuses == [
        ("User:1", DeliveryStatus.FAILED, "JSONDecodeError"),
        ("User:2", DeliveryStatus.DELIVERED, None),
    ]


async def test_a_mutations_event_reaches_the_receiver(
    api: Api, database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        _, secret = await add_webhook(
            database, hook_settings, organization_id=org, url=receiver.url()
        )
        provider = api.with_key(world.a.provider.api_key)
        created = await create_client(
            provider, first_name="Ada", last_name="Hook", email="ada.hook@example.com"
        )
        refused = await create_client(provider, first_name="Bo", last_name="Hook", email="")
        await run_pass(database, hook_settings)
    assert created["messages"] is None and refused["messages"]  # the refusal emits nothing
    (request,) = receiver.requests
    assert json.loads(request.body) == {
        "resource_id": int(created["user"]["id"]),
        "resource_id_type": "User",
        "event_type": "patient.created",
        "changed_fields": [],
    }
    verify(request, port=receiver.port, secret=secret)


async def test_a_path_with_non_ascii_characters_is_signed_as_sent(
    database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        _, secret = await add_webhook(
            database, hook_settings, organization_id=org, url=receiver.url("/hööks/in?für=ä&v=a|b")
        )
        await add_event(database, organization_id=org)
        await run_pass(database, hook_settings)
    (request,) = receiver.requests
    # Percent-encoded by the HTTP client ("|" too), and signed as the client encoded it.
    assert request.target == "/h%C3%B6%C3%B6ks/in?f%C3%BCr=%C3%A4&v=a%7Cb"
    verify(request, port=receiver.port, secret=secret)


async def test_attempts_ending_together_are_recorded_each_by_its_own_claim(
    database: Database, hook_settings: Settings, world: World
) -> None:
    """One batch: a success, a success whose claim another worker took meanwhile (its lease
    lapsed), and a failure: each logged, only the held ones moved on."""
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        await add_webhook(database, hook_settings, organization_id=org, url=receiver.url())
        for resource in (1, 2, 3):
            await add_event(database, organization_id=org, resource_id=resource)
        await fan_out(database)
    ids = [d.id for d in await deliveries(database)]
    claimed = await claim_many(database, ids, lease_for(hook_settings))
    loaded = await load_many(database, hook_settings, claimed)
    # Another worker took the second one again after its lease lapsed: attempt 2 is its own.
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == ids[1]).values(attempts=2)
        )
    outcomes = [Outcome(200), Outcome(204), Outcome(500)]
    prepared = {i: request for i, request in loaded.items() if isinstance(request, Prepared)}
    attempts = [
        Attempt(delivery_id, claimed[delivery_id], prepared[delivery_id], outcome)
        for delivery_id, outcome in zip(ids, outcomes, strict=True)
    ]
    statuses = await record_attempts(database, hook_settings, attempts)
    assert statuses == [DeliveryStatus.DELIVERED, DeliveryStatus.SENDING, DeliveryStatus.PENDING]
    first, lost, failed = await deliveries(database)
    assert (first.status, first.lease_until) == (DeliveryStatus.DELIVERED, None)
    assert (lost.status, lost.attempts, lost.delivered_at) == (DeliveryStatus.SENDING, 2, None)
    assert failed.status == DeliveryStatus.PENDING and failed.last_error == "500"
    async with database.read_sessions() as session:
        logged = (
            await session.execute(
                select(SentWebhook.event_id, SentWebhook.http_response_status).order_by(
                    SentWebhook.id
                )
            )
        ).all()
    events = [d.event_id for d in (first, lost, failed)]
    assert sorted(logged) == sorted(zip(events, ["200", "204", "500"], strict=True))
