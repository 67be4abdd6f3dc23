"""Keep the garbage collector's pauses out of other clients' requests in a serving process.

A full (generation 2) collection walks every tracked object: the schema, the ORM's mappers,
every imported module (150,000+ objects at startup) and whatever requests hold at the time,
on the event loop's thread, in the middle of whichever request allocated last. On the
nested-list load test (scripts/nested_list_load.py) wide documents triggered one every few
hundred ms, 70-150 ms each: the largest pauses any other client saw (a simple query's p99 120 ms
with them, 27 ms without).

So once the application is built, ``gc.freeze()`` moves what exists then out of the
collector's sight for good (it lives as long as the process anyway), the young generations are
collected as before (most garbage cycles of a request die young), and the full collection runs
on a timer instead of every few wide requests: one pause a minute instead of several a second.
"""

from __future__ import annotations

import asyncio
import gc

# Python's defaults for the young generations; the third makes automatic full collections
# practically never happen (one per 100,000 collections of the middle generation).
THRESHOLDS = (700, 10, 100_000)
FULL_COLLECTION_SECONDS = 60.0


def freeze_startup_objects() -> None:
    """Collect what startup left behind, stop scanning the survivors, time full collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def start_full_collections(seconds: float = FULL_COLLECTION_SECONDS) -> asyncio.Task[None]:
    """A task running a full collection every ``seconds`` (cycles that outlived their request)."""

    async def collect() -> None:
        while True:
            await asyncio.sleep(seconds)
            gc.collect()

    return asyncio.get_running_loop().create_task(collect(), name="carebook-full-gc")
