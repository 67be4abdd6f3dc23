"""The receiver of ``python -m bench.webhooks``, a process of its own.

    python -m bench.webhook_receiver PORT

Answers 200 to every POST (after reading its body) and counts it by URL path (one per webhook)
and ``X-Carebook-Event-Id``. ``GET /counts`` answers the counts as JSON
(``{"posts": [[path, event id, n], ...], "last_at": t}``, ``t`` the ``time.monotonic()`` of the
last POST); ``GET /counts?summary=1`` only how many (path, event id) pairs came and ``last_at``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EVENT_ID_HEADER = "X-Carebook-Event-Id"


def serve(port: int) -> None:
    """Receive until killed."""
    posts: Counter[tuple[str, str]] = Counter()
    last = [0.0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver offers

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                posts[(self.path, self.headers.get(EVENT_ID_HEADER, ""))] += 1
                last[0] = time.monotonic()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            with lock:
                if self.path.endswith("summary=1"):
                    data: dict[str, Any] = {"distinct": len(posts), "last_at": last[0]}
                else:
                    data = {"posts": [[p, e, n] for (p, e), n in posts.items()], "last_at": last[0]}
            body = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: a line per POST would cost more than the POST."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
