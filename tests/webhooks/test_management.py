"""The webhook management API: create, update, delete, rotate the secret, list, and who may.

Apps are built with ``webhook_allow_private_urls`` on to accept a loopback URL (no DNS needed),
and with it off to see the SSRF guard refuse.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.events.catalog import EVENT_TYPES
from carebook.events.models import (
    Event,
    SentWebhook,
    Webhook,
    WebhookDelivery,
    WebhookSubscription,
)
from carebook.users.models import User
from carebook.webhooks.secrets import open_sealed
from tests.support.api import Api
from tests.support.db import count
from tests.support.world import World

HOOK = "http://127.0.0.1:9/hook"
FIELDS = """id url event_type is_enabled should_retry signature_secret warned_at cursor
            webhook_events { id event_type created_at updated_at retry_count first_failed_at
                             last_failed_at webhook { id } }"""
CREATE = f"""mutation($input: createWebhookInput) {{ createWebhook(input: $input) {{
  webhook {{ {FIELDS} }} messages {{ field message }} }} }}"""
UPDATE = f"""mutation($input: updateWebhookInput) {{ updateWebhook(input: $input) {{
  webhook {{ {FIELDS} }} messages {{ field message }} }} }}"""
DELETE = """mutation($id: ID) { deleteWebhook(input: {id: $id}) {
  webhook { id url webhook_events { event_type } } messages { field message } } }"""
EXPIRE = """mutation($id: ID!) { expireWebhookSignature(input: {id: $id}) {
  webhook { id signature_secret } messages { field message } } }"""
ONE = f"query($id: ID) {{ webhook(id: $id) {{ {FIELDS} }} }}"
LIST = """query($keywords: String, $order_by: WebhookOrderKeys, $page_size: Int, $offset: Int,
  $after: Cursor) {
  webhooks(keywords: $keywords, order_by: $order_by, page_size: $page_size, offset: $offset,
           after: $after) { id url event_type signature_secret cursor }
  webhooksCount(keywords: $keywords) }"""
SENT = """query($keywords: String, $order_by: SentWebhookOrderKeys, $page_size: Int,
  $offset: Int, $after: Cursor) {
  sentWebhooks(keywords: $keywords, order_by: $order_by, page_size: $page_size,
               offset: $offset, after: $after) {
    id created_at cursor event_type http_response_status resource_id resource_id_type url
    webhook_id }
  sentWebhooksCount(keywords: $keywords) }"""


MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def api_with(settings: Settings, database: Database) -> AsyncIterator[MakeApi]:
    """``await api_with(webhook_allow_private_urls=True)``: an anonymous Api of an app with
    those settings (as tests/limits builds them), sharing the test database."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Api:
            app = create_app(settings.model_copy(update=overrides), database)
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://carebook.test")
            return Api(await stack.enter_async_context(client))

        yield make


@pytest.fixture
async def private_ok(api_with: MakeApi) -> Api:
    """An anonymous client of an app that accepts http and loopback webhook URLs."""
    return await api_with(webhook_allow_private_urls=True)


async def _create(api: Api, **fields: Any) -> dict[str, Any]:
    answer: dict[str, Any] = (await api.data(CREATE, {"input": fields}))["createWebhook"]
    return answer


async def _created(api: Api, **fields: Any) -> dict[str, Any]:
    answer = await _create(api, **{"url": HOOK, "event_type": "patient.created", **fields})
    assert answer["messages"] is None, answer
    webhook: dict[str, Any] = answer["webhook"]
    return webhook


async def _row(database: Database, webhook_id: str) -> Webhook | None:
    async with database.read_sessions() as session:
        return await session.get(Webhook, int(webhook_id))


async def _subscriptions(database: Database, webhook_id: str) -> list[tuple[int, str]]:
    async with database.read_sessions() as session:
        query = select(WebhookSubscription).where(WebhookSubscription.webhook_id == int(webhook_id))
        return sorted((s.id, s.event_type) for s in (await session.execute(query)).scalars())


async def test_create_answers_the_webhook_and_its_secret_once(
    private_ok: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = private_ok.with_key(world.a.provider.api_key)
    webhook = await _created(
        provider,
        webhook_events=[{"event_type": "applied_tag.created"}, {"event_type": "patient.updated"}],
    )
    assert webhook["url"] == HOOK and webhook["event_type"] == "patient.created"
    assert webhook["is_enabled"] is True and webhook["should_retry"] is True
    assert webhook["warned_at"] is None
    events = webhook["webhook_events"]
    assert [e["event_type"] for e in events] == ["applied_tag.created", "patient.updated"]
    assert {e["webhook"]["id"] for e in events} == {webhook["id"]}
    assert events[0]["retry_count"] == 0 and events[0]["first_failed_at"] is None
    # ISO8601DateTime fields are ISO 8601 (the reader's zone: UTC here).
    assert datetime.fromisoformat(events[0]["created_at"]).utcoffset() == timedelta(0)
    secret = webhook["signature_secret"]
    assert secret and len(secret) >= 40

    row = await _row(database, webhook["id"])
    assert row is not None and row.organization_id == world.a.provider.organization_id
    assert secret not in row.secret_sealed
    assert open_sealed(row.secret_sealed, secret_key=settings.secret_key, webhook_id=row.id) == (
        secret
    )
    # Shown once: no read shows it again.
    again = (await provider.data(ONE, {"id": webhook["id"]}))["webhook"]
    assert again["signature_secret"] is None
    assert again["webhook_events"] == events
    listed = (await provider.data(LIST))["webhooks"]
    assert [(w["id"], w["signature_secret"]) for w in listed] == [(webhook["id"], None)]


async def test_staff_members_manage_webhooks_too(private_ok: Api, world: World) -> None:
    staff = private_ok.with_key(world.a.staff.api_key)
    webhook = await _created(staff, should_retry=False, is_enabled=False)
    assert (webhook["should_retry"], webhook["is_enabled"]) == (False, False)


async def test_update_changes_given_fields_and_replaces_the_event_list(
    private_ok: Api, world: World, database: Database
) -> None:
    provider = private_ok.with_key(world.a.provider.api_key)
    webhook = await _created(
        provider,
        webhook_events=[{"event_type": "location.created"}, {"event_type": "location.deleted"}],
    )
    kept, dropped = (e["id"] for e in webhook["webhook_events"])
    changes = {
        "id": webhook["id"],
        "url": "http://127.0.0.1:9/other",
        "should_retry": False,
        "webhook_events": [
            {"id": kept, "event_type": "location.updated"},
            {"event_type": "appointment.updated"},
        ],
    }
    answer = (await provider.data(UPDATE, {"input": changes}))["updateWebhook"]
    assert answer["messages"] is None, answer
    updated = answer["webhook"]
    assert updated["signature_secret"] is None
    assert (updated["url"], updated["should_retry"]) == ("http://127.0.0.1:9/other", False)
    assert updated["event_type"] == "patient.created"  # not given: kept
    assert [(e["id"] == kept, e["event_type"]) for e in updated["webhook_events"]] == [
        (True, "location.updated"),
        (False, "appointment.updated"),
    ]
    rows = await _subscriptions(database, webhook["id"])
    assert int(kept) in {row_id for row_id, _ in rows}
    assert int(dropped) not in {row_id for row_id, _ in rows}

    # Left out, the list stays; "" clears event_type; [] deletes every subscription.
    same = await provider.data(UPDATE, {"input": {"id": webhook["id"], "event_type": ""}})
    assert same["updateWebhook"]["webhook"]["event_type"] is None
    assert len(same["updateWebhook"]["webhook"]["webhook_events"]) == 2
    cleared = await provider.data(UPDATE, {"input": {"id": webhook["id"], "webhook_events": []}})
    assert cleared["updateWebhook"]["webhook"]["webhook_events"] == []
    assert await _subscriptions(database, webhook["id"]) == []


async def test_an_unknown_event_id_or_type_is_a_message_and_changes_nothing(
    private_ok: Api, world: World, database: Database
) -> None:
    provider = private_ok.with_key(world.a.provider.api_key)
    other = await _created(
        private_ok.with_key(world.b.provider.api_key),
        webhook_events=[{"event_type": "patient.updated"}],
    )
    webhook = await _created(provider, webhook_events=[{"event_type": "patient.updated"}])
    foreign_event = other["webhook_events"][0]["id"]
    answer = (
        await provider.data(
            UPDATE,
            {
                "input": {
                    "id": webhook["id"],
                    "url": "http://127.0.0.1:9/changed",
                    "webhook_events": [{"id": foreign_event, "event_type": "patient.created"}],
                }
            },
        )
    )["updateWebhook"]
    assert answer["webhook"] is None
    assert [m["field"] for m in answer["messages"]] == ["webhook_events"]
    row = await _row(database, webhook["id"])
    assert row is not None and row.url == HOOK

    refused = await _create(
        provider,
        url=HOOK,
        event_type="patient.exploded",
        webhook_events=[{"event_type": "nope"}, {"event_type": "patient.updated"}],
    )
    assert refused["webhook"] is None
    assert {m["field"] for m in refused["messages"]} == {"event_type", "webhook_events"}
    twice = await _create(
        provider,
        url=HOOK,
        webhook_events=[{"event_type": "patient.updated"}, {"event_type": "patient.updated"}],
    )
    assert [m["field"] for m in twice["messages"]] == ["webhook_events"]
    nothing = await _create(provider, url=HOOK)
    assert [m["field"] for m in nothing["messages"]] == ["event_type"]
    assert await count(database, Webhook) == 2


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example.com/hook", "must be an https URL"),
        ("https://127.0.0.1/hook", "must resolve to public addresses only"),
        ("https://localhost:8443/hook", "must resolve to public addresses only"),
        ("https://user:pw@example.com/hook", "without a user name or password"),
        ("", "can't be blank"),
    ],
)
async def test_unsafe_urls_are_refused_on_create_and_update(
    api_with: MakeApi, private_ok: Api, world: World, database: Database, url: str, problem: str
) -> None:
    guarded = (await api_with(webhook_allow_private_urls=False)).with_key(world.a.provider.api_key)
    refused = await _create(guarded, url=url, event_type="patient.created")
    assert refused["webhook"] is None
    assert [m["field"] for m in refused["messages"]] == ["url"]
    assert problem in refused["messages"][0]["message"]
    assert await count(database, Webhook) == 0

    webhook = await _created(private_ok.with_key(world.a.provider.api_key))
    answer = await guarded.data(UPDATE, {"input": {"id": webhook["id"], "url": url}})
    assert [m["field"] for m in answer["updateWebhook"]["messages"]] == ["url"]
    row = await _row(database, webhook["id"])
    assert row is not None and row.url == HOOK


async def test_a_url_is_required(private_ok: Api, world: World) -> None:
    answer = await _create(
        private_ok.with_key(world.a.provider.api_key), event_type="patient.created"
    )
    assert answer["messages"] == [{"field": "url", "message": "Url can't be blank"}]


async def test_reenabling_clears_when_it_was_disabled_and_warned(
    private_ok: Api, world: World, database: Database
) -> None:
    provider = private_ok.with_key(world.a.provider.api_key)
    webhook = await _created(provider)
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    async with database.write_sessions() as session, session.begin():
        row = await session.get_one(Webhook, int(webhook["id"]))
        row.is_enabled, row.disabled_at, row.warned_at = False, when, when
    shown = (await provider.data(ONE, {"id": webhook["id"]}))["webhook"]
    assert datetime.fromisoformat(shown["warned_at"]) == when
    answer = await provider.data(UPDATE, {"input": {"id": webhook["id"], "is_enabled": True}})
    assert answer["updateWebhook"]["webhook"]["is_enabled"] is True
    assert answer["updateWebhook"]["webhook"]["warned_at"] is None
    row = await _row(database, webhook["id"])
    assert row is not None and (row.is_enabled, row.disabled_at, row.warned_at) == (
        True,
        None,
        None,
    )


async def test_expire_signature_rotates_the_secret_and_shows_the_new_one_once(
    private_ok: Api, world: World, database: Database, settings: Settings
) -> None:
    provider = private_ok.with_key(world.a.provider.api_key)
    webhook = await _created(provider)
    answer = (await provider.data(EXPIRE, {"id": webhook["id"]}))["expireWebhookSignature"]
    assert answer["messages"] is None
    fresh = answer["webhook"]["signature_secret"]
    assert fresh and fresh != webhook["signature_secret"]
    row = await _row(database, webhook["id"])
    assert row is not None
    opened = open_sealed(row.secret_sealed, secret_key=settings.secret_key, webhook_id=row.id)
    assert opened == fresh
    assert (await provider.data(ONE, {"id": webhook["id"]}))["webhook"]["signature_secret"] is None


async def _sent_and_pending(database: Database, organization_id: int, webhook_id: int) -> None:
    """One event of the organization, a pending delivery of it and one logged attempt."""
    async with database.write_sessions() as session, session.begin():
        event = Event(
            organization_id=organization_id,
            event_type="patient.created",
            resource_type="User",
            resource_id=7,
        )
        session.add(event)
        await session.flush()
        session.add(
            WebhookDelivery(
                organization_id=organization_id,
                webhook_id=webhook_id,
                event_id=event.id,
                resource_key="User:7",
            )
        )
        session.add(
            SentWebhook(
                organization_id=organization_id,
                webhook_id=webhook_id,
                event_id=event.id,
                event_type="patient.created",
                resource_id=7,
                resource_id_type="User",
                url=HOOK,
                http_response_status="500",
            )
        )


async def test_delete_removes_the_webhook_and_keeps_its_log(
    private_ok: Api, world: World, database: Database
) -> None:
    provider = private_ok.with_key(world.a.provider.api_key)
    webhook = await _created(provider, webhook_events=[{"event_type": "patient.updated"}])
    await _sent_and_pending(database, world.a.provider.organization_id, int(webhook["id"]))
    answer = (await provider.data(DELETE, {"id": webhook["id"]}))["deleteWebhook"]
    assert answer["messages"] is None
    assert answer["webhook"]["id"] == webhook["id"]
    assert answer["webhook"]["webhook_events"] == [{"event_type": "patient.updated"}]
    assert await _row(database, webhook["id"]) is None
    assert await count(database, WebhookSubscription) == 0
    assert await count(database, WebhookDelivery) == 0
    sent = (await provider.data(SENT))["sentWebhooks"]
    assert [(s["webhook_id"], s["http_response_status"]) for s in sent] == [(None, "500")]
    again = (await provider.data(DELETE, {"id": webhook["id"]}))["deleteWebhook"]
    assert again["messages"] == [{"field": "id", "message": "Webhook not found"}]


async def test_another_organization_sees_and_changes_nothing(
    private_ok: Api, world: World, database: Database
) -> None:
    webhook = await _created(private_ok.with_key(world.a.provider.api_key))
    other = private_ok.with_key(world.b.provider.api_key)
    assert (await other.data(ONE, {"id": webhook["id"]}))["webhook"] is None
    assert await other.data(LIST) == {"webhooks": [], "webhooksCount": 0}
    not_found = [{"field": "id", "message": "Webhook not found"}]
    update = {"id": webhook["id"], "url": "http://127.0.0.1:9/stolen", "is_enabled": False}
    answer = await other.data(UPDATE, {"input": update})
    assert answer["updateWebhook"] == {"webhook": None, "messages": not_found}
    answer = await other.data(DELETE, {"id": webhook["id"]})
    assert answer["deleteWebhook"] == {"webhook": None, "messages": not_found}
    answer = await other.data(EXPIRE, {"id": webhook["id"]})
    assert answer["expireWebhookSignature"] == {"webhook": None, "messages": not_found}
    row = await _row(database, webhook["id"])
    assert row is not None and (row.url, row.is_enabled) == (HOOK, True)
    unknown = await other.data(UPDATE, {"input": {"id": "999999", "is_enabled": False}})
    assert unknown["updateWebhook"]["messages"] == not_found


ROOT_FIELDS = [
    ('query { webhook(id: "1") { id } }', None),
    ("query { webhooks { id } }", None),
    ("query { webhooksCount }", None),
    ("query { webhookEventTypes }", None),
    ("query { sentWebhooks { id } }", None),
    ("query { sentWebhooksCount }", None),
    (CREATE, {"input": {"url": HOOK, "event_type": "patient.created"}}),
    (UPDATE, {"input": {"id": "1", "is_enabled": False}}),
    (DELETE, {"id": "1"}),
    (EXPIRE, {"id": "1"}),
]


@pytest.mark.parametrize(("document", "variables"), ROOT_FIELDS)
async def test_a_patient_is_forbidden(
    private_ok: Api, world: World, document: str, variables: dict[str, Any] | None
) -> None:
    patient = private_ok.with_token(world.a.patient_token)
    assert await patient.error_codes(document, variables) == ["FORBIDDEN"]
    assert await private_ok.error_codes(document, variables) == ["UNAUTHENTICATED"]


async def test_event_types_are_the_catalogs(api: Api, world: World) -> None:
    answer = await api.with_key(world.a.staff.api_key).data("query { webhookEventTypes }")
    assert answer["webhookEventTypes"] == list(EVENT_TYPES)
    assert "patient.created" in answer["webhookEventTypes"]


async def test_webhooks_page_sort_and_search(private_ok: Api, world: World) -> None:
    provider = private_ok.with_key(world.a.provider.api_key)
    made = [
        await _created(provider, url="http://127.0.0.1:9/b", event_type="patient.updated"),
        await _created(provider, url="http://127.0.0.1:9/c", event_type="location.created"),
        await _created(
            provider,
            url="http://127.0.0.1:9/a",
            event_type="appointment.created",
            webhook_events=[{"event_type": "location.deleted"}],
        ),
    ]
    ids = [w["id"] for w in made]
    newest_first = await provider.data(LIST)
    assert [w["id"] for w in newest_first["webhooks"]] == ids[::-1]
    assert newest_first["webhooksCount"] == 3

    first = (await provider.data(LIST, {"order_by": "URL_ASC", "page_size": 2}))["webhooks"]
    assert [w["url"][-1] for w in first] == ["a", "b"]
    rest = await provider.data(LIST, {"order_by": "URL_ASC", "after": first[-1]["cursor"]})
    assert [w["url"][-1] for w in rest["webhooks"]] == ["c"]
    skipped = await provider.data(LIST, {"order_by": "URL_DESC", "offset": 1, "page_size": 1})
    assert [w["url"][-1] for w in skipped["webhooks"]] == ["b"]
    by_type = await provider.data(LIST, {"order_by": "EVENT_TYPE_ASC"})
    assert [w["event_type"] for w in by_type["webhooks"]] == [
        "appointment.created",
        "location.created",
        "patient.updated",
    ]

    # A keyword matches the URL, the event type or a subscribed event type.
    location = await provider.data(LIST, {"keywords": "LOCATION"})
    assert sorted(w["id"] for w in location["webhooks"]) == sorted([ids[1], ids[2]])
    assert location["webhooksCount"] == 2
    both = await provider.data(LIST, {"keywords": "location /c"})
    assert [w["id"] for w in both["webhooks"]] == [ids[1]]
    assert (await provider.data(LIST, {"keywords": "%"}))["webhooksCount"] == 0

    assert await provider.error_codes(LIST, {"page_size": 101}) == ["BAD_USER_INPUT"]


async def _log(database: Database, organization_id: int, *entries: dict[str, Any]) -> None:
    async with database.write_sessions() as session, session.begin():
        for entry in entries:
            session.add(
                SentWebhook(
                    organization_id=organization_id,
                    **{"resource_id_type": "User", "http_response_status": "200", **entry},
                )
            )


async def test_sent_webhooks_are_listed_newest_first_paged_and_searched(
    api: Api, world: World, database: Database
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    org_a = world.a.provider.organization_id
    await _log(
        database,
        org_a,
        {
            "event_type": "patient.created",
            "url": "https://a.example/1",
            "resource_id": 11,
            "created_at": now - timedelta(hours=3),
        },
        {
            "event_type": "patient.updated",
            "url": "https://b.example/2",
            "resource_id": 12,
            "created_at": now - timedelta(hours=2),
        },
        {
            "event_type": "location.created",
            "url": "https://c.example/3",
            "resource_id": 11,
            "resource_id_type": "Location",
            "created_at": now - timedelta(hours=1),
        },
        # Past the retention period: no longer listed (the purge deletes it).
        {
            "event_type": "patient.created",
            "url": "https://old.example",
            "resource_id": 11,
            "created_at": now - timedelta(days=181),
        },
    )
    await _log(
        database,
        world.b.provider.organization_id,
        {
            "event_type": "patient.created",
            "url": "https://b-org.example",
            "resource_id": 11,
            "created_at": now,
        },
    )
    provider = api.with_key(world.a.provider.api_key)
    listed = await provider.data(SENT)
    sent = listed["sentWebhooks"]
    assert [s["url"][8] for s in sent] == ["c", "b", "a"]
    assert listed["sentWebhooksCount"] == 3
    newest = sent[0]
    assert newest["created_at"] == (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S +0000")
    assert (newest["event_type"], newest["resource_id"], newest["resource_id_type"]) == (
        "location.created",
        "11",
        "Location",
    )
    assert (newest["http_response_status"], newest["webhook_id"]) == ("200", None)

    page = await provider.data(SENT, {"order_by": "CREATED_AT_ASC", "page_size": 2})
    assert [s["url"][8] for s in page["sentWebhooks"]] == ["a", "b"]
    after = page["sentWebhooks"][-1]["cursor"]
    rest = await provider.data(SENT, {"order_by": "CREATED_AT_ASC", "after": after})
    assert [s["url"][8] for s in rest["sentWebhooks"]] == ["c"]
    by_type = await provider.data(SENT, {"order_by": "EVENT_TYPE_DESC", "offset": 1})
    assert [s["event_type"] for s in by_type["sentWebhooks"]] == [
        "patient.created",
        "location.created",
    ]

    resource = await provider.data(SENT, {"keywords": "11"})
    assert {s["url"][8] for s in resource["sentWebhooks"]} == {"a", "c"}
    patients = await provider.data(SENT, {"keywords": "patient user"})
    assert patients["sentWebhooksCount"] == 2
    other = await api.with_key(world.b.staff.api_key).data(SENT)
    assert [s["url"] for s in other["sentWebhooks"]] == ["https://b-org.example"]


async def test_the_longest_url_the_guard_accepts_is_stored_whole(
    private_ok: Api, world: World, database: Database
) -> None:
    # The column is 2048 wide: PostgreSQL would refuse one character more with an error.
    provider = private_ok.with_key(world.a.provider.api_key)
    longest = HOOK + "?" + "x" * (2048 - len(HOOK) - 1)
    webhook = await _created(provider, url=longest)
    row = await _row(database, webhook["id"])
    assert row is not None and row.url == longest
    refused = await _create(provider, url=longest + "x", event_type="patient.created")
    assert refused["messages"] == [
        {"field": "url", "message": "Url must be a URL of at most 2048 characters"}
    ]


async def test_times_are_written_in_the_readers_zone(
    api_with: MakeApi, world: World, database: Database
) -> None:
    # ISO8601DateTime fields in ISO 8601, SentWebhook.created_at (a String) in Healthie's form.
    # A winter date (Berlin is +0100), kept listed by a retention period longer than its age.
    app = await api_with(webhook_allow_private_urls=True, sent_webhook_retention_days=36500)
    provider = app.with_key(world.a.provider.api_key)
    webhook = await _created(provider)
    when = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    async with database.write_sessions() as session, session.begin():
        row = await session.get_one(Webhook, int(webhook["id"]))
        row.warned_at = when
        reader = await session.get_one(User, world.a.provider.user_id)
        reader.timezone = "Europe/Berlin"
    await _log(
        database,
        world.a.provider.organization_id,
        {"event_type": "patient.created", "url": HOOK, "created_at": when},
    )
    shown = (await provider.data(ONE, {"id": webhook["id"]}))["webhook"]
    assert shown["warned_at"] == "2026-01-15T13:00:00+01:00"
    sent = (await provider.data(SENT))["sentWebhooks"]
    assert [s["created_at"] for s in sent] == ["2026-01-15 13:00:00 +0100"]
