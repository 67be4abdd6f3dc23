"""The delivery process's pace: unbounded while the application is quiet, a share of a core
during a burst of writes, and never for longer than a burst may last."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.events.models import DeliveryStatus
from carebook.webhooks import pace
from carebook.webhooks.dispatch import fan_out_all
from carebook.webhooks.pace import Pace
from carebook.webhooks.worker import start_worker
from tests.support.webhook_receiver import receiving
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook, deliveries, poll_until


class Clocks:
    """Wall and CPU clocks the test moves by hand."""

    def __init__(self) -> None:
        self.wall, self.used = 1000.0, 5.0

    def run(self, wall: float, cpu: float) -> None:
        self.wall += wall
        self.used += cpu


def _pace(clocks: Clocks, share: float = 0.2) -> Pace:
    return Pace(share, clock=lambda: clocks.wall, cpu=lambda: clocks.used)


def _writes(clocks: Clocks, paced: Pace, seconds: int, per_second: int) -> None:
    """``seconds`` seconds of writes at ``per_second`` events, a fan-out each second, no CPU."""
    for _ in range(seconds):
        clocks.run(wall=1.0, cpu=0.0)
        paced.fanned_out(per_second)


def test_quiet_writes_never_wait_however_much_cpu_delivery_takes() -> None:
    clocks = Clocks()
    paced = _pace(clocks)
    paced.fanned_out(0)
    for _ in range(10):
        clocks.run(wall=1.0, cpu=0.9)  # 90 % of a core, 10 events a second
        paced.fanned_out(10)
        assert not paced.in_burst
        assert paced.wait_seconds() == 0.0


def test_a_burst_holds_delivery_to_its_share_of_a_core() -> None:
    clocks = Clocks()
    paced = _pace(clocks, share=0.2)
    paced.fanned_out(0)
    clocks.run(wall=1.0, cpu=0.0)
    paced.fanned_out(300)  # 300 events in a second: a burst begins
    assert paced.in_burst
    clocks.run(wall=1.0, cpu=0.1)  # within 0.2 s a second
    assert paced.wait_seconds() == 0.0
    clocks.run(wall=0.5, cpu=0.4)  # 0.5 s used in 1.5 s: 0.2 s over the 0.3 s earned
    assert paced.wait_seconds() == pytest.approx(0.2 / 0.2)
    clocks.run(wall=1.0, cpu=0.0)  # waited it out
    assert paced.wait_seconds() == pytest.approx(0.0)


def test_a_burst_that_ends_lifts_the_pace() -> None:
    clocks = Clocks()
    paced = _pace(clocks)
    paced.fanned_out(0)
    clocks.run(wall=1.0, cpu=0.9)
    paced.fanned_out(500)
    clocks.run(wall=0.1, cpu=0.5)
    assert paced.wait_seconds() > 0
    clocks.run(wall=1.0, cpu=0.0)
    paced.fanned_out(3)  # the writes calmed down
    clocks.run(wall=0.1, cpu=0.5)
    assert not paced.in_burst and paced.wait_seconds() == 0.0


def test_a_quiet_spell_inside_a_burst_banks_little() -> None:
    clocks = Clocks()
    paced = _pace(clocks, share=0.2)
    paced.fanned_out(0)
    clocks.run(wall=1.0, cpu=0.0)
    paced.fanned_out(200)
    clocks.run(wall=30.0, cpu=0.0)  # nothing to deliver for a while: 6 s earned, 0.5 kept
    assert paced.wait_seconds() == 0.0
    clocks.run(wall=0.0, cpu=1.0)
    assert paced.wait_seconds() == pytest.approx((1.0 - pace.MOST_BANKED_SECONDS) / 0.2)


def test_a_burst_longer_than_a_burst_may_last_is_not_paced() -> None:
    clocks = Clocks()
    paced = _pace(clocks)
    paced.fanned_out(0)
    _writes(clocks, paced, int(pace.LONGEST_BURST_SECONDS) - 1, 100)  # the writes go on
    assert paced.in_burst
    clocks.run(wall=0.0, cpu=5.0)
    assert paced.wait_seconds() > 0
    _writes(clocks, paced, 2, 100)
    clocks.run(wall=0.0, cpu=5.0)  # the application's steady load: delivery keeps up
    assert not paced.in_burst and paced.wait_seconds() == 0.0


def test_dips_do_not_start_the_burst_again() -> None:
    """Writes that hover around the threshold are steady load: a quiet second now and then
    does not give them a new two minutes of pacing."""
    clocks = Clocks()
    paced = _pace(clocks)
    paced.fanned_out(0)
    for second in range(int(pace.LONGEST_BURST_SECONDS) * 3):
        clocks.run(wall=1.0, cpu=0.0)
        paced.fanned_out(10 if second % 10 == 9 else 100)  # a calm second in every ten
    clocks.run(wall=1.0, cpu=0.0)
    paced.fanned_out(100)
    clocks.run(wall=0.0, cpu=5.0)
    assert not paced.in_burst and paced.wait_seconds() == 0.0


def test_a_calm_spell_as_long_as_a_burst_starts_a_new_one() -> None:
    clocks = Clocks()
    paced = _pace(clocks)
    paced.fanned_out(0)
    _writes(clocks, paced, int(pace.LONGEST_BURST_SECONDS) + 5, 100)  # past its paced time
    _writes(clocks, paced, int(pace.LONGEST_BURST_SECONDS), 0)  # then calm
    _writes(clocks, paced, 1, 100)  # a new burst
    clocks.run(wall=0.0, cpu=1.0)
    assert paced.in_burst and paced.wait_seconds() > 0


def test_a_share_of_one_turns_pacing_off() -> None:
    clocks = Clocks()
    paced = _pace(clocks, share=1.0)
    paced.fanned_out(0)
    clocks.run(wall=1.0, cpu=1.0)
    paced.fanned_out(1000)
    clocks.run(wall=0.1, cpu=1.0)
    assert not paced.in_burst and paced.wait_seconds() == 0.0


class _Held(Pace):
    """A pace that holds every claim while ``held`` is set; counts how often it was asked."""

    def __init__(self) -> None:
        super().__init__(0.2)
        self.held = True
        self.asked = 0

    def wait_seconds(self) -> float:
        self.asked += 1
        return 0.05 if self.held else 0.0


async def test_the_worker_claims_nothing_while_its_pace_holds_it(
    database: Database, settings: Settings, world: World
) -> None:
    fast = settings.model_copy(
        update={"webhook_allow_private_urls": True, "webhook_poll_seconds": 0.05}
    )
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        await add_webhook(database, fast, organization_id=org, url=receiver.url())
        await add_event(database, organization_id=org, resource_id=1)
        held = _Held()

        async def fanned_out() -> bool:
            return len(await deliveries(database)) == 1

        async def delivered() -> bool:
            return [d.status for d in await deliveries(database)] == [DeliveryStatus.DELIVERED]

        worker = start_worker(database, fast, held)
        try:
            await poll_until(fanned_out, alive=worker)  # the fan-out is never held
            asked = held.asked
            await poll_until(lambda: _at_least(held, asked + 10), alive=worker)
            assert [d.status for d in await deliveries(database)] == [DeliveryStatus.PENDING]
            assert receiver.requests == []  # ten passes, every claim held
            held.held = False
            await poll_until(delivered, alive=worker)
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
    assert len(receiver.requests) == 1


async def _at_least(held: _Held, asked: int) -> bool:
    return held.asked >= asked


async def test_the_fan_out_counts_the_events_written_not_the_backlog(
    database: Database, settings: Settings, world: World
) -> None:
    """After a restart the fan-out dispatches a backlog of old events: those are not a burst of
    writes, and must not slow their own delivery."""
    org = world.a.provider.organization_id
    await add_webhook(database, settings, organization_id=org, url="https://hooks.example/in")
    for resource in (1, 2, 3):
        await add_event(database, organization_id=org, resource_id=resource)
    since = utcnow()
    await add_event(database, organization_id=org, resource_id=4)
    done = await fan_out_all(database, since=since)
    assert (done.events, done.deliveries, done.written) == (4, 4, 1)
