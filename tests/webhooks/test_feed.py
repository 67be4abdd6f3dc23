"""The change feed: changeEvents and ``carebook events`` list one organization's events after a
cursor; redeliverWebhookEvent queues an event again; the purge drops only old, settled events."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.events.emit import emit
from carebook.events.models import DeliveryStatus, Event, WebhookDelivery
from carebook.webhooks.feed import SETTLE_SECONDS, FeedFilter, list_events
from carebook.webhooks.retention import purge_events
from tests.cli.run import carebook
from tests.support.api import Api
from tests.support.events import last_event_id
from tests.support.seed_documents import UPDATE_CLIENT
from tests.support.world import World
from tests.webhooks.feed_support import add_event, add_webhook, deliveries
from tests.webhooks.helpers import poll_until

FEED = (
    "query($after: ID, $page_size: Int, $event_type: String) { changeEvents(after: $after, "
    "page_size: $page_size, event_type: $event_type) { id event_type resource_id "
    "resource_id_type changed_fields created_at payload } }"
)
REDELIVER = (
    "mutation($input: redeliverWebhookEventInput) { redeliverWebhookEvent(input: $input) "
    "{ webhook_ids messages { field message } } }"
)


async def _feed(api: Api, **variables: object) -> list[dict[str, object]]:
    events: list[dict[str, object]] = (await api.data(FEED, variables))["changeEvents"]
    return events


def _ids(events: list[dict[str, object]]) -> list[int]:
    return [int(str(event["id"])) for event in events]


async def test_the_feed_lists_the_organizations_events_after_a_cursor_in_order(
    api: Api, world: World, database: Database
) -> None:
    org_a, org_b = world.a.provider.organization_id, world.b.provider.organization_id
    start = await last_event_id(database)
    a1 = await add_event(
        database, org_a, "patient.updated", world.a.patient_id, changed=["phone_number", "dob"]
    )
    b1 = await add_event(database, org_b, "patient.updated", world.b.patient_id)
    a2 = await add_event(database, org_a, "patient.created", world.a.other_patient_id)
    a3 = await add_event(database, org_a, "location.created", 77)
    provider_a = api.with_key(world.a.provider.api_key)

    events = await _feed(provider_a, after=str(start))
    assert _ids(events) == [a1, a2, a3]  # never organization B's b1
    first = events[0]
    assert first["event_type"] == "patient.updated"
    assert (first["resource_id"], first["resource_id_type"]) == (str(world.a.patient_id), "User")
    assert first["changed_fields"] == ["dob", "phone_number"]
    # The exact body a webhook receives: the id a JSON number, as receivers parse it.
    assert json.loads(str(first["payload"])) == {
        "resource_id": world.a.patient_id,
        "resource_id_type": "User",
        "event_type": "patient.updated",
        "changed_fields": ["dob", "phone_number"],
    }
    assert _ids(await _feed(provider_a, after=str(a1))) == [a2, a3]
    assert _ids(await _feed(provider_a, after=str(a3))) == []
    # Paging: page_size events at a time, the last id as the next cursor.
    page = await _feed(provider_a, after=str(start), page_size=2)
    assert _ids(page) == [a1, a2]
    assert _ids(await _feed(provider_a, after=page[-1]["id"], page_size=2)) == [a3]
    assert _ids(await _feed(provider_a, after=str(start), event_type="patient.created")) == [a2]
    # Staff members read it too; organization B's provider sees only B's event.
    assert _ids(await _feed(api.with_key(world.a.staff.api_key), after=str(start))) == [a1, a2, a3]
    assert _ids(await _feed(api.with_key(world.b.provider.api_key), after=str(start))) == [b1]


async def test_an_update_through_the_api_is_in_the_feed(
    api: Api, world: World, database: Database
) -> None:
    start = await last_event_id(database)
    provider = api.with_key(world.a.provider.api_key)
    variables = {"id": str(world.a.patient_id), "last_name": "Renamed"}
    await provider.data(UPDATE_CLIENT, variables)
    [event] = await _feed(provider, after=str(start))
    assert (event["event_type"], event["resource_id"]) == ("patient.updated", variables["id"])
    assert "last_name" in event["changed_fields"]
    assert json.loads(str(event["payload"]))["changed_fields"] == event["changed_fields"]


async def test_the_feed_is_for_providers_and_staff_with_bounded_pages(
    api: Api, world: World
) -> None:
    assert await api.with_token(world.a.patient_token).error_codes(FEED) == ["FORBIDDEN"]
    assert await api.error_codes(FEED) == ["UNAUTHENTICATED"]
    provider = api.with_key(world.a.provider.api_key)
    for variables in ({"page_size": 0}, {"page_size": 1001}, {"event_type": "patient.typo"}):
        assert await provider.error_codes(FEED, variables) == ["BAD_USER_INPUT"]
    assert await provider.error_codes(FEED, {"after": "x1"}) == ["BAD_USER_INPUT"]
    assert await provider.error_codes(FEED, {"page_size": 1000}) == []


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return carebook(database_url, "events", *args)


async def test_the_cli_prints_the_feed_as_json_lines(
    world: World, database: Database, database_url: str
) -> None:
    org_a, org_b = world.a.provider.organization_id, world.b.provider.organization_id
    start = await last_event_id(database)
    a1 = await add_event(database, org_a, "patient.updated", 5, changed=["email"])
    await add_event(database, org_b, "patient.updated", 6)
    a2 = await add_event(database, org_a, "applied_tag.created", 7)

    done = _cli(database_url, "--organization", str(org_a), "--after", str(start))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["id"] for line in lines] == [str(a1), str(a2)]
    assert lines[0] == {
        "id": str(a1),
        "created_at": lines[0]["created_at"],
        "resource_id": 5,
        "resource_id_type": "User",
        "event_type": "patient.updated",
        "changed_fields": ["email"],
    }
    assert lines[0]["created_at"].endswith("+00:00")
    limited = _cli(
        database_url, "--organization", str(org_a), "--after", str(start), "--limit", "1"
    )
    assert [json.loads(line)["id"] for line in limited.stdout.splitlines()] == [str(a1)]
    typed = _cli(
        database_url, "--organization", str(org_a), "--after", str(start),
        "--type", "applied_tag.created",
    )  # fmt: skip
    assert [json.loads(line)["id"] for line in typed.stdout.splitlines()] == [str(a2)]
    assert _cli(database_url, "--organization", str(org_a), "--type", "nope").returncode != 0
    assert _cli(database_url).returncode != 0  # which organization is required


async def test_redeliver_queues_the_event_for_the_webhooks_receiving_it(
    api: Api, world: World, database: Database
) -> None:
    org_a = world.a.provider.organization_id
    by_type = await add_webhook(database, org_a, event_type="patient.updated")
    by_subscription = await add_webhook(database, org_a, subscriptions=["patient.updated"])
    other_type = await add_webhook(database, org_a, event_type="location.created")
    await add_webhook(database, org_a, event_type="patient.updated", enabled=False)
    event = await add_event(database, org_a, "patient.updated", world.a.patient_id, dispatched=True)
    before = await deliveries(database)

    provider = api.with_key(world.a.provider.api_key)
    answer = (await provider.data(REDELIVER, {"input": {"event_id": str(event)}}))[
        "redeliverWebhookEvent"
    ]
    assert answer == {"webhook_ids": [str(by_type), str(by_subscription)], "messages": None}
    queued = (await deliveries(database))[len(before) :]
    assert [(d.webhook_id, d.event_id, d.status, d.attempts) for d in queued] == [
        (by_type, event, DeliveryStatus.PENDING, 0),
        (by_subscription, event, DeliveryStatus.PENDING, 0),
    ]
    assert {d.resource_key for d in queued} == {f"User:{world.a.patient_id}"}
    assert all(d.next_attempt_at <= utcnow() for d in queued)  # due at once

    # One named webhook gets it even without subscribing to the type (a replay to it).
    named = {"input": {"event_id": str(event), "webhook_id": str(other_type)}}
    answer = (await provider.data(REDELIVER, named))["redeliverWebhookEvent"]
    assert answer == {"webhook_ids": [str(other_type)], "messages": None}
    assert (await deliveries(database))[-1].webhook_id == other_type


async def test_redeliver_refuses_other_organizations_and_patients(
    api: Api, world: World, database: Database
) -> None:
    org_a, org_b = world.a.provider.organization_id, world.b.provider.organization_id
    mine = await add_webhook(database, org_a, event_type="patient.updated")
    disabled = await add_webhook(database, org_a, event_type="patient.updated", enabled=False)
    theirs = await add_webhook(database, org_b, event_type="patient.updated")
    my_event = await add_event(database, org_a, "patient.updated", world.a.patient_id)
    their_event = await add_event(database, org_b, "patient.updated", world.b.patient_id)
    unheard = await add_event(database, org_a, "location.deleted", 3)
    provider = api.with_key(world.a.provider.api_key)
    before = await deliveries(database)

    async def messages(**fields: str) -> list[dict[str, str]]:
        answer = (await provider.data(REDELIVER, {"input": fields}))["redeliverWebhookEvent"]
        assert answer["webhook_ids"] is None
        result: list[dict[str, str]] = answer["messages"]
        return result

    assert await messages(event_id=str(their_event)) == [
        {"field": "event_id", "message": "Event not found"}
    ]
    assert await messages(event_id=str(my_event), webhook_id=str(theirs)) == [
        {"field": "webhook_id", "message": "Webhook not found"}
    ]
    assert (await messages(event_id=str(my_event), webhook_id=str(disabled)))[0][
        "field"
    ] == "webhook_id"
    assert (await messages(event_id=str(unheard)))[0]["field"] == "event_id"  # no receiver
    patient = api.with_token(world.a.patient_token)
    variables = {"input": {"event_id": str(my_event), "webhook_id": str(mine)}}
    assert await patient.error_codes(REDELIVER, variables) == ["FORBIDDEN"]
    assert len(await deliveries(database)) == len(before)  # nothing queued


async def test_the_purge_deletes_only_old_settled_events(
    world: World, database: Database, settings: Settings
) -> None:
    org = world.a.provider.organization_id
    old = utcnow() - timedelta(days=settings.event_retention_days + 1)
    recent = utcnow() - timedelta(days=settings.event_retention_days - 1)
    webhook = await add_webhook(database, org, event_type="patient.updated")

    async def event(created_at: datetime, *, dispatched: bool = True) -> int:
        return await add_event(
            database, org, "patient.updated", 1, created_at=created_at, dispatched=dispatched
        )

    settled, delivered = await event(old), await event(old)
    not_fanned_out = await event(old, dispatched=False)
    pending, sending = await event(old), await event(old)
    young = await event(recent)
    async with database.write_sessions() as session, session.begin():
        for event_id, status in (
            (delivered, DeliveryStatus.DELIVERED),
            (pending, DeliveryStatus.PENDING),
            (sending, DeliveryStatus.SENDING),
        ):
            session.add(
                WebhookDelivery(
                    organization_id=org,
                    webhook_id=webhook,
                    event_id=event_id,
                    resource_key="User:1",
                    status=status,
                )
            )

    assert await purge_events(database, settings) == 2
    async with database.read_sessions() as session:
        left = set((await session.execute(select(Event.id))).scalars())
    assert {settled, delivered}.isdisjoint(left)
    assert {not_fanned_out, pending, sending, young} <= left
    # The delivered event's delivery row went with it (ON DELETE CASCADE); the others stay.
    assert sorted(d.event_id for d in await deliveries(database)) == sorted([pending, sending])
    assert await purge_events(database, settings) == 0


async def test_the_purge_command_runs_it_once(
    world: World, database: Database, database_url: str, settings: Settings
) -> None:
    org = world.a.provider.organization_id
    old = utcnow() - timedelta(days=settings.event_retention_days + 1)
    gone = await add_event(database, org, "patient.updated", 1, created_at=old, dispatched=True)
    kept = await add_event(database, org, "patient.updated", 1, dispatched=True)
    done = _cli(database_url, "purge")
    assert done.returncode == 0, done.stderr
    assert "deleted 1 events older than 90 days" in done.stdout
    async with database.read_sessions() as session:
        left = set((await session.execute(select(Event.id))).scalars())
    assert kept in left and gone not in left


async def _page(database: Database, organization_id: int, after: int) -> list[int]:
    async with database.read_sessions() as session:
        wanted = FeedFilter(organization_id=organization_id, after=after)
        return [event.id for event in await list_events(session, wanted, limit=100)]


async def test_the_feed_stops_before_a_young_gap_and_passes_an_old_one(
    world: World, database: Database
) -> None:
    org = world.a.provider.organization_id
    start = await last_event_id(database)
    first = await add_event(database, org, "patient.updated", 1)
    # first + 1 is missing: maybe a transaction still committing (PostgreSQL hands ids out at
    # insert time), so the feed waits for it rather than let a reader's cursor pass it.
    async with database.write_sessions() as session, session.begin():
        session.add(
            Event(
                id=first + 2,
                organization_id=org,
                event_type="patient.updated",
                resource_type="User",
                resource_id=2,
            )
        )
    assert await _page(database, org, start) == [first]
    # Long enough ago, the gap is a rolled-back write: the feed goes on.
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(Event)
            .where(Event.id == first + 2)
            .values(created_at=utcnow() - timedelta(seconds=SETTLE_SECONDS + 1))
        )
    assert await _page(database, org, start) == [first, first + 2]
    assert await _page(database, org, first + 1) == [first + 2]  # a cursor in the gap is fine


@pytest.mark.only_on("postgresql", reason="SQLite's writers take turns: ids commit in order")
async def test_an_event_committed_after_a_later_one_is_not_skipped(
    world: World, database: Database
) -> None:
    org = world.a.provider.organization_id
    start = await last_event_id(database)
    async with database.write_sessions() as slow, slow.begin():
        early = emit(slow, organization_id=org, event_type="patient.updated", resource_id=1)
        await slow.flush()  # holds start + 1, not committed yet
        late = await add_event(database, org, "patient.updated", 2)  # start + 2, committed
        assert (early.id, late) == (start + 1, start + 2)
        assert await _page(database, org, start) == []
    assert await _page(database, org, start) == [start + 1, start + 2]


async def test_each_server_purges_old_events_while_it_runs(
    world: World, database: Database, settings: Settings
) -> None:
    org = world.a.provider.organization_id
    old = utcnow() - timedelta(days=settings.event_retention_days + 1)
    gone = await add_event(database, org, "patient.updated", 1, created_at=old, dispatched=True)
    app = create_app(settings, database)

    async def purged() -> bool:
        async with database.read_sessions() as session:
            return (await session.get(Event, gone)) is None

    async with app.router.lifespan_context(app):  # the server's background tasks run
        await poll_until(purged)  # the first pass runs as the server starts
