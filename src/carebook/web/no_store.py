"""``Cache-Control: no-store`` on every response.

GraphQL answers carry patient data, and so do the set-password pages (a patient's name, a token
in the address): no browser, shared computer or proxy may keep a copy. Every response of the
server is marked, errors included, rather than only those known to hold patient data, so a new
route cannot forget it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CACHE_CONTROL = b"cache-control"
NO_STORE = b"no-store"


class NoStore:
    """ASGI middleware: replaces any Cache-Control of an HTTP response with ``no-store``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != _CACHE_CONTROL
                ]
                message = {**message, "headers": [*headers, (_CACHE_CONTROL, NO_STORE)]}
            await send(message)

        await self.app(scope, receive, marking_send)
