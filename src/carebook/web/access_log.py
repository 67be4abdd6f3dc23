"""The request id of every HTTP request, echoed in ``X-Request-Id``, and the access log.

The outermost middleware: it settles the request's id first (the client's ``X-Request-ID`` when
sane, carebook.audit.trail.request_id), keeps it in the scope's state where the audit trail
reads it, and answers it in ``X-Request-Id``. With the access log on, it writes one line per
request once the answer is sent: id, method, path, GraphQL operation name, status, duration.
Never the query string (a GET's document and variables), the body, a header value other than
the id, or a path Carebook does not serve (a path under a prefix it serves files from is
logged as the prefix and ``*``).
"""

from __future__ import annotations

import logging
import re
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carebook.audit.trail import REQUEST_ID_STATE, request_id
from carebook.logs import ACCESS_LOGGER

# Where the GraphQL view leaves the operation's name in the scope's state (carebook.app).
OPERATION_STATE = "carebook_operation"
# Logged instead of a path Carebook does not serve: a client may put anything in a path (an
# email), and nothing a client chose goes into the log but the id and the operation's name.
OTHER_PATH = "(other)"
# A 500 for an answer that never started (the exception handler answers outside this layer).
_NOT_ANSWERED = 500

# A GraphQL name (at most 100 characters logged), and a document's first named operation
# after its blanks and comments.
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_FIRST_OPERATION = re.compile(
    r"(?:[\s,\ufeff]|#[^\n\r]*)*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]{0,99})"
)
INVALID_NAME = "(invalid)"

access_logger = logging.getLogger(ACCESS_LOGGER)


class AccessLog:
    """Request id, ``X-Request-Id`` answer header and (when ``log``) one access line."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        log: bool,
        paths: frozenset[str],
        prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.log = log
        self.paths = paths
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        rid = request_id(Headers(scope=scope).get("x-request-id", ""))
        state[REQUEST_ID_STATE] = rid
        status = _NOT_ANSWERED

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)["X-Request-Id"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.log:
                path = self._logged_path(scope["path"])
                _write_line(scope, rid, path, status, time.perf_counter() - started)

    def _logged_path(self, path: str) -> str:
        """A route's path as it is; under a served prefix, the prefix and ``*``; else OTHER_PATH."""
        if path in self.paths:
            return path
        prefix = next((p for p in self.prefixes if path.startswith(p)), None)
        return f"{prefix}*" if prefix is not None else OTHER_PATH


def _write_line(scope: Scope, rid: str, path: str, status: int, seconds: float) -> None:
    operation = scope.get("state", {}).get(OPERATION_STATE)
    duration_ms = round(seconds * 1000, 1)
    access_logger.info(
        "%s %s %s %s %s %.1fms",
        rid,
        scope["method"],
        path,
        operation or "-",
        status,
        duration_ms,
        extra={
            "request_id": rid,
            "method": scope["method"],
            "path": path,
            "operation": operation,
            "status": status,
            "duration_ms": duration_ms,
        },
    )


def note_operation(scope: Scope, name: str | None, document: str | None) -> None:
    """Keep the GraphQL operation's name for the access line (the view calls this)."""
    scope.setdefault("state", {})[OPERATION_STATE] = operation_name(name, document)


def operation_name(name: str | None, document: str | None) -> str | None:
    """The operation's name: the one the client chose, else the document's first operation's.

    Only a GraphQL name is kept (a client's operationName may be any string); a document that
    opens with something else (a fragment) gives none rather than a parse of its own.
    """
    if name is not None:
        return name if _NAME.fullmatch(name) else INVALID_NAME
    found = _FIRST_OPERATION.match(document or "")
    return found.group(1) if found else None
