"""``Cache-Control: no-store`` on every response.

GraphQL answers carry patient data, and so do the set-password pages (a patient's name, a token
in the address): no browser, shared computer or proxy may keep a copy. Every response of the
server is marked, errors included, rather than only those known to hold patient data, so a new
route cannot forget it.

The one exception is a path prefix the app names (GraphiQL's files: the same public bytes for
everyone, at addresses that change with their content): there a Cache-Control the route set
itself is kept. A response under it that sets none (a 404) is still marked no-store.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carebook.audit.trail import REQUEST_ID_STATE

_CACHE_CONTROL = b"cache-control"
NO_STORE = b"no-store"
INTERNAL_ERROR = "Internal server error"


async def internal_error(request: Request, __: Exception) -> Response:
    """The answer to an exception nothing else handled: no detail, and never stored.

    Starlette answers these from its ServerErrorMiddleware, which sits outside every middleware
    of the app (NoStore and the access log included), so this answer carries ``no-store`` and
    the request's ``X-Request-Id`` itself. The exception is still raised after it, for the
    server's log.
    """
    error = {"message": INTERNAL_ERROR, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    headers = {"Cache-Control": NO_STORE.decode()}
    request_id = request.scope.get("state", {}).get(REQUEST_ID_STATE)
    if request_id:
        headers["X-Request-Id"] = request_id
    return JSONResponse({"data": None, "errors": [error]}, status_code=500, headers=headers)


class NoStore:
    """ASGI middleware: replaces any Cache-Control of an HTTP response with ``no-store``
    (under ``cacheable_prefix``, only adds it when the response set none)."""

    def __init__(self, app: ASGIApp, cacheable_prefix: str | None = None) -> None:
        self.app = app
        self.cacheable_prefix = cacheable_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.cacheable_prefix and scope["path"].startswith(self.cacheable_prefix):
            await self.app(scope, receive, _marking_unless_set(send))
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


def _marking_unless_set(send: Send) -> Send:
    """``send``, adding ``no-store`` to a response that carries no Cache-Control of its own."""

    async def marking_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == _CACHE_CONTROL for name, _ in headers):
                message = {**message, "headers": [*headers, (_CACHE_CONTROL, NO_STORE)]}
        await send(message)

    return marking_send
