"""A minimal keep-alive HTTP/1.1 load driver, and the statistics of a run.

httpx spends ~0.3 ms of CPU per request, as much as the fastest endpoint measured here; on a
2-core machine shared with the server that would cap every figure at the client's speed. This
client writes pre-built requests on raw asyncio streams (one connection per concurrent worker,
127.0.0.1 only) and reads Content-Length or chunked bodies, which is all uvicorn sends.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import uvloop

HOST = "127.0.0.1"
T = TypeVar("T")

Request = tuple[str, bytes]  # path, JSON body
Check = Callable[[int, bytes], bool]


def run_driver(main: Coroutine[Any, Any, T]) -> T:
    """Run the driver on uvloop, the loop ``carebook serve`` itself runs on (uvicorn[standard]).

    The driver takes its CPU from the same 2 cores as the server; on the standard loop it spent
    more of it per request.
    """
    return uvloop.run(main)


class Connection:
    """One keep-alive connection to the server under test."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.header_tail = f"Host: {HOST}:{port}\r\nContent-Type: application/json\r\n{extra}"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST and return (status, body)."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = f"POST {path} HTTP/1.1\r\n{self.header_tail}Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        lower = raw.lower()
        index = lower.find(b"content-length:")
        if index >= 0:
            end = lower.index(b"\r\n", index)
            payload = await self.reader.readexactly(int(lower[index + 15 : end]))
        elif b"transfer-encoding: chunked" in lower:
            payload = await self._chunked()
        else:
            payload = await self.reader.read()
            await self.close()
        if b"connection: close" in lower:
            await self.close()
        return status, payload

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


@dataclass
class Stats:
    """Throughput and latency of one operation on one layer."""

    operation: str
    layer: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    median_ms: float = 0.0
    p99_ms: float = 0.0
    peak_rss_mb: float | None = None
    # User + system CPU of the server's processes per request (warm-up requests included).
    server_cpu_ms: float | None = None
    first_error: str | None = None
    latencies: list[float] = field(default_factory=list, repr=False)

    def finish(self) -> Stats:
        """Compute the summary figures from the latencies."""
        if self.latencies:
            ordered = sorted(self.latencies)
            self.median_ms = statistics.median(ordered) * 1000
            self.p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        self.rps = self.requests / self.seconds if self.seconds else 0.0
        return self

    def summary(self) -> dict[str, Any]:
        """The JSON form (without raw latencies)."""
        data = asdict(self)
        data.pop("latencies")
        return data


async def run_load(
    operation: str,
    layer: str,
    call: Callable[[int], Awaitable[tuple[bool, str | None]]],
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    warmup: int,
) -> Stats:
    """Call ``call(i)`` from ``concurrency`` workers until ``duration`` or ``max_requests``.

    ``call`` returns (ok, error text). The first ``warmup`` calls are not measured.
    """
    stats = Stats(operation, layer)
    counter = 0
    for i in range(warmup):
        await call(i)
    counter = warmup
    deadline = 0.0

    async def worker() -> None:
        nonlocal counter
        while True:
            index = counter
            if index - warmup >= max_requests or time.perf_counter() >= deadline:
                return
            counter += 1
            start = time.perf_counter()
            try:
                ok, error = await call(index)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                ok, error = False, f"{type(exc).__name__}: {exc}"
            stats.latencies.append(time.perf_counter() - start)
            stats.requests += 1
            if not ok:
                stats.errors += 1
                stats.first_error = stats.first_error or error

    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    stats.seconds = time.perf_counter() - started
    return stats.finish()


class HttpCaller:
    """Turns request number i into a POST on a pool of keep-alive connections."""

    def __init__(
        self, port: int, headers: dict[str, str], make: Callable[[int], Request], check: Check
    ) -> None:
        self.port, self.headers, self.make, self.check = port, headers, make, check
        self.idle: list[Connection] = []

    async def __call__(self, index: int) -> tuple[bool, str | None]:
        connection = self.idle.pop() if self.idle else Connection(self.port, self.headers)
        path, body = self.make(index)
        try:
            status, payload = await connection.post(path, body)
        except BaseException:
            await connection.close()
            raise
        self.idle.append(connection)
        if status == 200 and self.check(status, payload):
            return True, None
        return False, f"HTTP {status}: {payload[:300].decode(errors='replace')}"

    async def close(self) -> None:
        for connection in self.idle:
            await connection.close()
        self.idle.clear()


# --- memory of the server processes -----------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The parent pid is the 2nd field after the parenthesised command name.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for parent in frontier for child in _children(parent)]
        tree.extend(frontier)
    return tree


def rss_bytes(pids: list[int]) -> int:
    """Summed resident set size of these processes (VmRSS from /proc)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (utime and stime from /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:  # a process that has exited since the tree was listed
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _TICKS


class ServerCpu:
    """The CPU time a server's processes spend from now on, per request served."""

    def __init__(self, pid: int) -> None:
        self.pids = process_tree(pid)
        self.start = cpu_seconds(self.pids)

    def ms_per_request(self, requests: int) -> float:
        """Milliseconds of server CPU per request since this clock started."""
        return round((cpu_seconds(self.pids) - self.start) * 1000 / max(requests, 1), 3)


class RssSampler:
    """Samples the RSS of a process tree in a thread; ``peak()`` since the last ``reset()``."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pids, refreshed = process_tree(self.pid), time.monotonic()
        while not self._stop.wait(self.interval):
            if time.monotonic() - refreshed > 2:
                pids, refreshed = process_tree(self.pid), time.monotonic()
            self._peak = max(self._peak, rss_bytes(pids))

    def reset(self) -> None:
        self._peak = rss_bytes(process_tree(self.pid))

    def peak_mb(self) -> float:
        return round(self._peak / 2**20, 1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
