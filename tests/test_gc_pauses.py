"""The timed full collections: the first one also freezes what the first requests built."""

from __future__ import annotations

import asyncio
import gc

from carebook.gc_pauses import start_full_collections


async def test_the_first_timed_collection_freezes_once() -> None:
    before = gc.get_freeze_count()
    built_by_requests = [[n] for n in range(1000)]  # survives: a cache the first requests made
    task = start_full_collections(seconds=0)
    try:
        for _ in range(1000):  # a bounded wait for the task's first turn (no clock involved)
            if gc.get_freeze_count() > before:
                break
            await asyncio.sleep(0)
        frozen = gc.get_freeze_count()
        assert frozen >= before + len(built_by_requests)
        for _ in range(50):  # later turns collect without freezing again
            await asyncio.sleep(0)
        garbage_cycles = [[] for _ in range(100)]
        for cycle in garbage_cycles:
            cycle.append(cycle)
        del garbage_cycles
        for _ in range(50):
            await asyncio.sleep(0)
        assert gc.get_freeze_count() <= frozen
    finally:
        task.cancel()
        gc.unfreeze()
