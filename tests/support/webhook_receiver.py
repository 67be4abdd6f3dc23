"""A real HTTP/1.1 receiver on 127.0.0.1 for webhook tests: records requests, answers a status.

Built on asyncio.start_server in the test's own loop (no thread, no framework), so a test sees
exactly the bytes on the wire and counts connections, refused sends included. It closes each
connection after its answer unless told to keep it alive.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class Request:
    """One request as received."""

    method: str
    target: str  # path and query, as on the request line
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Receiver:
    """What the server got, and what it answers next (``statuses`` first, then ``status``)."""

    port: int = 0
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    location: str | None = None  # sent with 3xx answers
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    # Answer every request of a connection on it (HTTP/1.1 keep-alive) instead of closing it.
    keep_alive: bool = False
    set_cookie: str | None = None  # a Set-Cookie header sent with every answer
    answer: bytes = b"ok"  # the body of every answer

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else self.status

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._answer(reader, writer)
            while self.keep_alive:  # until the sender closes the connection
                await self._answer(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read one request and answer it."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Request(method, target, headers, body))
        status = self._next_status()
        extra = f"Location: {self.location}\r\n" if self.location and 300 <= status < 400 else ""
        if self.set_cookie:
            extra += f"Set-Cookie: {self.set_cookie}\r\n"
        if not self.keep_alive:
            extra += "Connection: close\r\n"
        head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(self.answer)}\r\n{extra}\r\n"
        writer.write(head.encode() + self.answer)
        await writer.drain()


@asynccontextmanager
async def receiving(tls: ssl.SSLContext | None = None) -> AsyncIterator[Receiver]:
    """A receiver listening on a free loopback port until the block ends (https with ``tls``)."""
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0, ssl=tls)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        yield receiver
