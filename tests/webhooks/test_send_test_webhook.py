"""sendTestWebhook: a signed sample, sent at once, for the organization's providers and staff."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.events.models import SentWebhook
from tests.support.api import Api
from tests.support.webhook_receiver import receiving
from tests.support.world import World
from tests.webhooks.helpers import add_webhook, verify

SEND_TEST = """
mutation($input: sendTestWebhookInput) {
  sendTestWebhook(input: $input) { sent messages { field message } }
}
"""
NOT_FOUND = [{"field": "id", "message": "Webhook not found"}]


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private_urls": True})


@pytest.fixture
async def hook_api(hook_settings: Settings, database: Database) -> AsyncIterator[Api]:
    """An anonymous Api of an app that may send to loopback receivers."""
    app = create_app(hook_settings, database)
    async with contextlib.AsyncExitStack() as stack:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://carebook.test"
        )
        yield Api(await stack.enter_async_context(client))


async def _send(caller: Api, webhook_id: int | str) -> dict[str, object]:
    data = await caller.data(SEND_TEST, {"input": {"id": str(webhook_id)}})
    payload: dict[str, object] = data["sendTestWebhook"]
    return payload


async def test_a_signed_sample_reaches_the_receiver(
    hook_api: Api, database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        webhook_id, secret = await add_webhook(
            database,
            hook_settings,
            organization_id=org,
            url=receiver.url(),
            event_type="appointment.created",
        )
        staff = hook_api.with_key(world.a.staff.api_key)
        assert await _send(staff, webhook_id) == {"sent": True, "messages": None}
        receiver.status = 500
        assert await _send(staff, webhook_id) == {"sent": False, "messages": None}
    first = receiver.requests[0]
    # An appointment webhook's sample names an Appointment (id 0: none is real), not a User.
    assert json.loads(first.body) == {
        "resource_id": 0,
        "resource_id_type": "Appointment",
        "event_type": "appointment.created",
        "changed_fields": [],
        "test": True,
    }
    assert first.headers["x-carebook-event-id"].startswith("test-")
    verify(first, port=receiver.port, secret=secret)
    async with database.read_sessions() as session:
        rows = list((await session.execute(select(SentWebhook).order_by(SentWebhook.id))).scalars())
    assert [(r.webhook_id, r.event_id, r.http_response_status) for r in rows] == [
        (webhook_id, None, "200"),
        (webhook_id, None, "500"),
    ]


async def test_no_one_outside_the_organization_can_send_one(
    hook_api: Api, database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        webhook_id, _ = await add_webhook(
            database, hook_settings, organization_id=org, url=receiver.url()
        )
        other = hook_api.with_key(world.b.provider.api_key)
        assert await _send(other, webhook_id) == {"sent": False, "messages": NOT_FOUND}
        assert await _send(hook_api.with_key(world.a.provider.api_key), "x") == {
            "sent": False,
            "messages": NOT_FOUND,
        }
        # Past the id column's range: not found, not an internal error (PostgreSQL).
        assert await _send(hook_api.with_key(world.a.provider.api_key), str(10**30)) == {
            "sent": False,
            "messages": NOT_FOUND,
        }
        patient = hook_api.with_token(world.a.patient_token)
        assert await patient.error_codes(SEND_TEST, {"input": {"id": str(webhook_id)}}) == [
            "FORBIDDEN"
        ]
    assert receiver.connections == 0


async def test_a_patient_webhook_sample_is_about_the_caller(
    hook_api: Api, database: Database, hook_settings: Settings, world: World
) -> None:
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        webhook_id, _ = await add_webhook(
            database,
            hook_settings,
            organization_id=org,
            url=receiver.url(),
            event_type="patient.updated",
        )
        staff = hook_api.with_key(world.a.staff.api_key)
        assert await _send(staff, webhook_id) == {"sent": True, "messages": None}
    body = json.loads(receiver.requests[0].body)
    assert (body["resource_id"], body["resource_id_type"]) == (world.a.staff.user_id, "User")


async def test_an_organization_may_send_only_so_many_tests(
    database: Database, hook_settings: Settings, world: World
) -> None:
    limited = hook_settings.model_copy(update={"send_test_webhook_limit": 2})
    app = create_app(limited, database)
    async with (
        receiving() as receiver,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://carebook.test"
        ) as client,
    ):
        anonymous = Api(client)
        webhook_id, _ = await add_webhook(
            database, limited, organization_id=world.a.provider.organization_id, url=receiver.url()
        )
        other_id, _ = await add_webhook(
            database, limited, organization_id=world.b.provider.organization_id, url=receiver.url()
        )
        staff, provider = (
            anonymous.with_key(world.a.staff.api_key),
            anonymous.with_key(world.a.provider.api_key),
        )
        assert await _send(staff, webhook_id) == {"sent": True, "messages": None}
        assert await _send(provider, webhook_id) == {"sent": True, "messages": None}
        # The organization's third call, whoever makes it, is refused before any POST.
        refused = await client.post(
            "/graphql",
            json={"query": SEND_TEST, "variables": {"input": {"id": str(webhook_id)}}},
            headers=provider.headers,
        )
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        other = anonymous.with_key(world.b.provider.api_key)
        assert await _send(other, other_id) == {"sent": True, "messages": None}
    assert len(receiver.requests) == 3
