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

Two more things measured under load (issue 28, bench/load.py; docs/performance.md, "Under load"):

- What the first requests build (compiled SQL, per-type caches, the pools' connections) is not
  there at start-up, so every timed full collection scanned it again. The first timed
  collection freezes once more: what is then frozen is bounded by the heap at that moment (a
  cycle among those objects that dies later is not collected, so this happens once, never
  on every collection).
- A worker's import of the application ran four or five automatic full collections as its heap
  grew (about 0.2 s of CPU per worker start, on a loaded machine over a second of wall time):
  :func:`quiet_startup` holds them off until :func:`freeze_startup_objects` collects once.
  The young collections are held off too: what an import allocates lives as long as the
  process, so the 700-allocation collections of the import (several hundred, 5-10 % of its
  CPU) found next to nothing to free; the one collection before the freeze frees it.
"""

from __future__ import annotations

import asyncio
import gc

# Python's defaults for the young generations; the third makes automatic full collections
# practically never happen (one per 100,000 collections of the middle generation).
THRESHOLDS = (700, 10, 100_000)
FULL_COLLECTION_SECONDS = 60.0


def quiet_startup() -> None:
    """No automatic collection while the application is imported and built (a worker's start:
    :func:`freeze_startup_objects`, once the application serves, collects once and turns the
    collector back on)."""
    gc.disable()


def freeze_startup_objects() -> None:
    """Collect what startup left behind, stop scanning the survivors, time full collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    gc.enable()


def start_full_collections(seconds: float = FULL_COLLECTION_SECONDS) -> asyncio.Task[None]:
    """A task running a full collection every ``seconds`` (cycles that outlived their request)."""

    async def collect() -> None:
        await asyncio.sleep(seconds)
        gc.collect()
        gc.freeze()  # once: what the first requests built and kept (see the module's text)
        while True:
            await asyncio.sleep(seconds)
            gc.collect()

    return asyncio.get_running_loop().create_task(collect(), name="carebook-full-gc")
