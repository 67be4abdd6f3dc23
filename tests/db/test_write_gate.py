"""The process's queue of SQLite writers (carebook.db.write_gate): in order, bounded, per loop.

How write sessions and the read trail's batches use it: tests/db/test_sqlite_connections.py and
tests/db/test_sqlite_batches.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from carebook.db.write_gate import WriteGate


async def test_writers_get_their_turns_in_arrival_order() -> None:
    gate = WriteGate()
    order: list[int] = []

    async def writer(n: int) -> None:
        async with gate.turn(5):
            order.append(n)
            await asyncio.sleep(0.01)  # a transaction spanning loop turns

    await asyncio.gather(*(writer(n) for n in range(6)))
    assert order == list(range(6))


async def test_one_writer_at_a_time() -> None:
    gate = WriteGate()
    inside = 0
    most = 0

    async def writer() -> None:
        nonlocal inside, most
        async with gate.turn(5):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.005)
            inside -= 1

    await asyncio.gather(*(writer() for _ in range(5)))
    assert most == 1


async def test_a_writer_waiting_too_long_gets_sqlites_locked_error() -> None:
    gate = WriteGate()
    held = await gate.enter(5)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        await gate.enter(0.05)
    held.end()
    # The one that gave up left no trace in the queue: the next writer goes at once.
    (await asyncio.wait_for(gate.enter(1), 0.5)).end()


async def test_a_turn_ended_twice_or_from_another_thread_lets_exactly_the_next_writer_go() -> None:
    gate = WriteGate()
    first = await gate.enter(5)
    second = asyncio.ensure_future(gate.enter(5))
    third = asyncio.ensure_future(gate.enter(5))
    await asyncio.sleep(0.01)
    ender = threading.Thread(target=first.end)  # a connection closed off the loop
    ender.start()
    ender.join()
    first.end()  # again: nothing more happens
    got = await asyncio.wait_for(second, 1)
    await asyncio.sleep(0.01)
    assert not third.done()
    got.end()
    (await asyncio.wait_for(third, 1)).end()


def test_each_event_loop_has_its_own_queue() -> None:
    gate = WriteGate()

    async def take_and_keep() -> None:
        await gate.enter(1)  # never ended: that loop's queue stays taken

    asyncio.run(take_and_keep())

    async def take_in_a_new_loop() -> None:
        (await asyncio.wait_for(gate.enter(1), 0.5)).end()

    asyncio.run(take_in_a_new_loop())


@pytest.mark.parametrize("steps", range(8))
async def test_a_writer_cancelled_as_its_turn_comes_is_cancelled_and_holds_nothing(
    steps: int,
) -> None:
    """The turn is handed over and the waiter cancelled ``steps`` loop turns later: a waiter the
    cancellation reaches ends cancelled, whatever the interleaving (Python 3.11's wait_for
    returned the turn instead, and a cancelled background pass went on writing and never
    stopped: a server's shutdown hung), and no turn is left held."""
    gate = WriteGate()
    first = await gate.enter(5)
    waiter = asyncio.create_task(gate.enter(5))
    for _ in range(3):
        await asyncio.sleep(0)  # the waiter queues
    first.end()
    for _ in range(steps):
        await asyncio.sleep(0)
    if waiter.cancel():  # still waiting (not already done with its turn): it must end cancelled
        with pytest.raises(asyncio.CancelledError):
            await waiter
    else:
        (await waiter).end()
    again = await asyncio.wait_for(gate.enter(5), 1)  # the turn is free, not held by the waiter
    again.end()
