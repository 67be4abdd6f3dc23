"""CPU per webhook POST of two HTTP clients, against the bench's receiver.

    python -m bench.webhook_clients                 # httpx, aiohttp, httpx, aiohttp
    python -m bench.webhook_clients --posts 20000 aiohttp

Each client sends ``--posts`` POSTs of a webhook-sized body with the delivery's headers, 4 at
once over keep-alive connections (as a webhook's sends go), reading each answer to its end, to
:mod:`bench.webhook_receiver` in a process of its own. It reports the client process's CPU time
per POST (``time.process_time``: what the delivery process pays for the client, whatever the
machine's load) and the POSTs a second. Why the delivery process sends with aiohttp:
docs/webhooks.md, "aiohttp, and a pace during bursts".
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from bench.run import ROOT, free_port

AT_ONCE = 4
BODY = (
    b'{"resource_id": 12345, "resource_id_type": "User", "event_type": "patient.updated", '
    b'"changed_fields": ["first_name"]}'
)
HEADERS = {
    "Content-Type": "application/json",
    "Content-Digest": "sha-256=:" + "A" * 43 + "=:",
    "Signature": "sig1=:" + "B" * 43 + "=:",
    "Signature-Input": 'sig1=("@method" "@path" "@query" "content-digest" "content-type" '
    '"content-length");created=1;keyid="webhook-1";alg="hmac-sha256"',
    "User-Agent": "Carebook-Webhooks/1",
}


async def _with_httpx(url: str, posts: int) -> list[int]:
    import httpx

    limits = httpx.Limits(max_keepalive_connections=AT_ONCE)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        gate = asyncio.Semaphore(AT_ONCE)

        async def one(number: int) -> int:
            async with (
                gate,
                client.stream(
                    "POST", url, content=BODY, headers={**HEADERS, "X-Event": str(number)}
                ) as response,
            ):
                async for _ in response.aiter_raw():
                    pass
                return response.status_code

        return await asyncio.gather(*(one(number) for number in range(posts)))


async def _with_aiohttp(url: str, posts: int) -> list[int]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=AT_ONCE, use_dns_cache=False)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
    ) as session:
        gate = asyncio.Semaphore(AT_ONCE)

        async def one(number: int) -> int:
            async with (
                gate,
                session.post(
                    url, data=BODY, headers={**HEADERS, "X-Event": str(number)}
                ) as response,
            ):
                async for _ in response.content.iter_any():
                    pass
                return response.status

        return await asyncio.gather(*(one(number) for number in range(posts)))


CLIENTS: dict[str, Callable[[str, int], Awaitable[list[int]]]] = {
    "httpx": _with_httpx,
    "aiohttp": _with_aiohttp,
}


def main() -> None:
    """Run the clients named (default: each twice, alternated) and print their cost."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clients", nargs="*", help=f"any of {', '.join(CLIENTS)}")
    parser.add_argument("--posts", type=int, default=6000)
    args = parser.parse_args()
    unknown = set(args.clients) - set(CLIENTS)
    if unknown:
        parser.error(f"unknown client(s): {', '.join(sorted(unknown))}")
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.webhook_receiver", str(port)], cwd=ROOT
    )
    try:
        time.sleep(1.5)  # the receiver binds its port
        for name in args.clients or ["httpx", "aiohttp", "httpx", "aiohttp"]:
            started, cpu = time.perf_counter(), time.process_time()
            statuses = asyncio.run(CLIENTS[name](f"http://127.0.0.1:{port}/hook", args.posts))
            wall, used = time.perf_counter() - started, time.process_time() - cpu
            assert set(statuses) == {200}, set(statuses)
            print(
                f"{name}: {used / args.posts * 1e6:.0f} us of CPU a POST, "
                f"{args.posts / wall:.0f} POSTs/s ({args.posts} POSTs, {AT_ONCE} at once)"
            )
    finally:
        receiver.kill()
        receiver.wait()


if __name__ == "__main__":
    main()
