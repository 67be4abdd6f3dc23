"""A webhook URL's DNS lookup is bounded in time and runs on threads of its own.

The resolver is replaced by one that hangs for ``*.hang.test`` (as a dead DNS server does);
the code under test (the timeout, the dedicated threads) is the real one.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from carebook.webhooks.urls import UnsafeUrl, resolve

BOUND_SECONDS = 120.0  # a hang's bound, never a timing expectation


@pytest.fixture
def hanging_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Lookups of ``*.hang.test`` block until the returned event is set (at the test's end)."""
    release = threading.Event()
    real = socket.getaddrinfo

    def lookup(host: str, *args: Any, **kwargs: Any) -> Any:
        if host.endswith(".hang.test"):
            release.wait()
            raise socket.gaierror(socket.EAI_NONAME, "released")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    yield release
    release.set()


async def test_a_lookup_that_hangs_is_given_up(hanging_dns: threading.Event) -> None:
    async with asyncio.timeout(BOUND_SECONDS):
        with pytest.raises(UnsafeUrl, match="in time"):
            await resolve("https://a.hang.test/hook", allow_private=False, seconds=0.05)


async def test_hanging_lookups_leave_the_default_executor_free(
    hanging_dns: threading.Event,
) -> None:
    loop = asyncio.get_running_loop()
    # More hanging lookups than the default executor has threads on any machine this runs on.
    hung = [
        asyncio.create_task(resolve(f"https://h{n}.hang.test/", allow_private=False, seconds=600))
        for n in range(40)
    ]
    await asyncio.sleep(0)  # the lookups start
    async with asyncio.timeout(BOUND_SECONDS):
        assert await loop.run_in_executor(None, lambda: 42) == 42
    hanging_dns.set()
    for task in hung:
        with pytest.raises(UnsafeUrl):
            await task
