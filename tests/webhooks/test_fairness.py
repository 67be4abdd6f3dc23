"""One organization's hanging receiver does not hold up another organization's deliveries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.events.models import DeliveryStatus
from carebook.webhooks.delivery import PER_WEBHOOK
from carebook.webhooks.worker import start_worker
from tests.support.webhook_receiver import receiving
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook, deliveries, poll_until


@dataclass
class Hanging:
    """A receiver that reads each POST and answers only once ``release`` is set."""

    port: int = 0
    received: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            self.received += 1
            await self.release.wait()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def hanging() -> AsyncIterator[Hanging]:
    receiver = Hanging()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        try:
            yield receiver
        finally:
            receiver.release.set()  # let open handlers end before the server closes


@pytest.fixture
def patient_settings(settings: Settings) -> Settings:
    """Loopback receivers, quick polls, and a POST timeout far longer than the test."""
    return settings.model_copy(
        update={
            "webhook_allow_private_urls": True,
            "webhook_poll_seconds": 0.05,
            "webhook_timeout_seconds": 3600.0,
        }
    )


async def test_a_hanging_receiver_does_not_stall_another_organizations_deliveries(
    database: Database, patient_settings: Settings, world: World
) -> None:
    slow_org, other_org = world.a.provider.organization_id, world.b.provider.organization_id
    async with hanging() as slow, receiving() as healthy:
        slow_hook, _ = await add_webhook(
            database,
            patient_settings,
            organization_id=slow_org,
            url=f"http://127.0.0.1:{slow.port}/h",
        )
        await add_webhook(database, patient_settings, organization_id=other_org, url=healthy.url())
        # The slow webhook's events are older: oldest-first alone would send them all first.
        for resource_id in range(1, 7):
            await add_event(database, organization_id=slow_org, resource_id=resource_id)
        for resource_id in (101, 102):
            await add_event(database, organization_id=other_org, resource_id=resource_id)

        async def healthy_delivered() -> bool:
            found = [d for d in await deliveries(database) if d.webhook_id != slow_hook]
            return len(found) == 2 and all(d.status == DeliveryStatus.DELIVERED for d in found)

        async def slow_holds_its_share() -> bool:
            return slow.received == PER_WEBHOOK

        worker = start_worker(database, patient_settings)
        try:
            await poll_until(healthy_delivered, alive=worker)
            await poll_until(slow_holds_its_share, alive=worker)
            # Delivered while the slow receiver still holds its POSTs open, and it holds no
            # more of the worker's sends than its share.
            assert not slow.release.is_set()
            assert len(healthy.requests) == 2
            assert slow.received == PER_WEBHOOK
            slow.release.set()

            async def all_delivered() -> bool:
                found = await deliveries(database)
                return len(found) == 8 and all(d.status == DeliveryStatus.DELIVERED for d in found)

            await poll_until(all_delivered, alive=worker)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
    assert slow.received == 6
