"""A worker keeps its connections to a receiving host open between bursts of sends."""

from __future__ import annotations

import pytest

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.webhooks import connections
from carebook.webhooks.delivery import PER_WEBHOOK
from carebook.webhooks.dispatch import CONCURRENT_SENDS, Dispatcher, fan_out_all
from tests.support.webhook_receiver import receiving
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private_urls": True})


async def _burst(database: Database, dispatcher: Dispatcher, org: int, first: int) -> int:
    """Events of PER_WEBHOOK resources from ``first`` on, fanned out and sent at once."""
    for resource in range(first, first + PER_WEBHOOK):
        await add_event(database, organization_id=org, resource_id=resource)
    await fan_out_all(database)
    started = await dispatcher.fill()
    await dispatcher.drain()
    return started


async def test_a_burst_to_one_host_reuses_the_connections_of_the_last(
    database: Database, hook_settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three webhooks on one host: each burst sends 12 POSTs at once. The second burst finds
    the first one's 12 connections idle and open (one pool of 4 for the host closed 8 of them):
    each webhook's client keeps as many as the webhook sends at once."""
    assert connections.KEEP_ALIVE >= PER_WEBHOOK
    # However slow the machine, no idle connection expires between the bursts.
    monkeypatch.setattr(connections, "KEEP_ALIVE_SECONDS", 600.0)
    org = world.a.provider.organization_id
    hooks = 3
    assert hooks * PER_WEBHOOK <= CONCURRENT_SENDS
    async with receiving() as receiver:
        receiver.keep_alive = True
        # Every answer sets a cookie: a sender that kept it would send it back.
        receiver.set_cookie = "session=abc; Path=/"
        for path in range(hooks):
            await add_webhook(
                database,
                hook_settings,
                organization_id=org,
                url=f"http://127.0.0.1:{receiver.port}/hook/{path}",
            )
        dispatcher = Dispatcher(database, hook_settings)
        try:
            assert await _burst(database, dispatcher, org, first=1) == hooks * PER_WEBHOOK
            assert await _burst(database, dispatcher, org, first=100) == hooks * PER_WEBHOOK
        finally:
            await dispatcher.aclose()
    assert len(receiver.requests) == 2 * hooks * PER_WEBHOOK
    assert dispatcher.report.delivered == 2 * hooks * PER_WEBHOOK
    # However the sends of a burst overlap, no webhook ever needed more than it sends at once.
    assert receiver.connections <= hooks * PER_WEBHOOK
    assert not [r for r in receiver.requests if "cookie" in r.headers]  # no cookie is kept


async def test_a_client_in_use_is_not_closed_to_make_room(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MOST_CLIENTS the least recently used client is closed, but never one a send still
    holds (its POST would be cut off, and the delivery sent again after its lease)."""
    import yarl

    monkeypatch.setattr(connections, "MOST_CLIENTS", 1)
    kept = connections.Connections()
    try:
        async with kept.client(yarl.URL("https://a.example/hook"), None, 1) as first:
            async with kept.client(yarl.URL("https://a.example/hook"), None, 2) as second:
                assert second is not first
            assert not first.closed  # held: the idle one made room instead
            assert second.closed
        assert first.closed is False  # alone now, within MOST_CLIENTS
        async with kept.client(yarl.URL("https://a.example/hook"), None, 3):
            pass
        assert first.closed  # idle and least recently used
    finally:
        await kept.aclose()
