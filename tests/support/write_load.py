"""A steady stream of patients created through the API, for tests of backups under load.

Patients are created one after the other, so the ones committed at any moment are exactly
``Load 0`` .. ``Load k-1`` for some k: a consistent copy holds such a prefix, never a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from tests.support.api import Api

LAST_NAME = "Loadwriter"
CREATE = """mutation($i: createClientInput) {
  createClient(input: $i) { user { id } messages { field message } } }"""
# Bound of every wait below: writes are milliseconds apart, so this is only a liveness limit.
POLLS = 30_000


class WriteLoad:
    """Creates patients ``Load 0``, ``Load 1``, ... until stopped; ``written`` counts answers."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.written = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin writing in a task of the running loop."""
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            n = self.written
            data = await self.api.data(
                CREATE,
                {
                    "i": {
                        "first_name": f"Load {n}",
                        "last_name": LAST_NAME,
                        "email": f"load{n}@example.com",
                        "dont_send_welcome": True,
                    }
                },
            )
            assert data["createClient"]["user"], data
            self.written = n + 1

    async def reach(self, count: int) -> None:
        """Wait (bounded) until ``count`` patients were written."""
        for _ in range(POLLS):
            if self.written >= count:
                return
            assert self._task is not None and not self._task.done(), "the writer stopped"
            await asyncio.sleep(0.001)
        raise AssertionError(f"only {self.written} of {count} writes in the bound")

    async def stop(self) -> None:
        """Stop writing (a write in flight is abandoned) and surface the writer's failure."""
        assert self._task is not None
        if self._task.done():
            self._task.result()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def assert_prefix(first_names: Iterable[str], *, at_least: int, at_most: int) -> int:
    """The copy's load patients are Load 0..k-1 with at_least <= k <= at_most; returns k."""
    numbers = sorted(int(name.removeprefix("Load ")) for name in first_names)
    k = len(numbers)
    assert numbers == list(range(k)), f"not a prefix of the writes: {numbers}"
    assert at_least <= k <= at_most, (at_least, k, at_most)
    return k
