"""The servers' schedulers (start_periodic, accounts/form_schedule.py) stop when cancelled."""

from __future__ import annotations

import asyncio
import contextlib

from carebook.accounts.form_schedule import start_periodic


async def test_a_scheduler_whose_pass_swallowed_the_cancellation_still_stops() -> None:
    """A library may swallow a cancellation mid-pass (Python 3.11's wait_for did): the loop
    must still end, not sleep on, or the server's shutdown waits a whole interval or more."""
    started = asyncio.Event()

    async def swallowing_pass(_holder: str) -> None:
        started.set()
        with contextlib.suppress(asyncio.CancelledError):  # swallowed, as the library did
            await asyncio.sleep(60)

    task = start_periodic(swallowing_pass, 3600, name="test-periodic", failure="failed")
    assert task is not None
    await started.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=30)  # a bound for a hang, not a timing claim
    assert task in done and task.cancelled()
