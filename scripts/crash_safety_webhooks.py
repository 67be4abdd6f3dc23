#!/usr/bin/env python
"""Crash safety of webhooks: SIGKILL ``carebook serve`` while it commits and sends events, restart
it, and prove that every acknowledged change's event still reaches the receiver.

    python scripts/crash_safety_webhooks.py --database sqlite|postgresql [--duration S]

The round of scripts/crash_safety.py (its fresh database, server and SIGKILL), with a webhook:
a receiver on 127.0.0.1 (answering in 0.3 s until the kill, so sends are in flight then)
subscribed to ``patient.created``; concurrent ``createClient`` calls; the server's process group
killed right after the last answers went out, once the receiver holds a POST unanswered; then
the server started again. Passes when the receiver gets the event of every acknowledged create
(at least once; duplicates carry the same X-Carebook-Event-Id and are counted) and every POST
the kill cut (begun, never answered) is sent again once its lease lapses. Exits 1 otherwise,
or when no POST was in flight at the kill, within the bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_safety import (  # the sibling script, importable from its directory
    carebook,
    free_port,
    fresh_database,
    kill,
    provider,
    server_env,
    start_server,
)

from carebook.config import Settings
from carebook.db.engine import create_database
from carebook.events.models import Webhook
from carebook.tables import data_tables
from carebook.webhooks.secrets import new_secret, seal

SECRET_KEY = "crash-safety-webhooks-secret-key"  # noqa: S105 (a throwaway database's)
CREATE = """mutation($input: createClientInput) {
  createClient(input: $input) { user { id } messages { field message } } }"""


@dataclass
class Received:
    """What the receiver got: resource ids of patient.created, event ids with repeats (of POSTs
    answered, and of POSTs begun); and how long it takes to answer now (seconds)."""

    delay: float
    resources: set[int] = field(default_factory=set)
    event_ids: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Cleared, POSTs wait before they are answered (or counted as answered).
    answering: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.answering.set()

    def in_flight(self) -> set[str]:
        """Event ids of POSTs begun and not answered yet (call with ``lock`` held)."""
        return set(Counter(self.started) - Counter(self.event_ids))

    def begun_again(self, event_ids: set[str]) -> set[str]:
        """Those of ``event_ids`` whose POST began at least twice (call with ``lock`` held)."""
        begun = Counter(self.started)
        return {event_id for event_id in event_ids if begun[event_id] >= 2}


def start_receiver(received: Received) -> ThreadingHTTPServer:
    """An HTTP receiver in a thread of this process; answers 200 after ``received.delay``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with received.lock:
                received.started.append(self.headers.get("X-Carebook-Event-Id", ""))
            time.sleep(received.delay)  # a slow receiver: the kill finds sends in flight
            received.answering.wait()
            payload = json.loads(body)
            with received.lock:
                if payload.get("event_type") == "patient.created":
                    received.resources.add(int(payload["resource_id"]))
                received.event_ids.append(self.headers.get("X-Carebook-Event-Id", ""))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def add_webhook(database_url: str, organization_id: int, url: str) -> None:
    """The organization's webhook for patient.created, written as createWebhook writes it."""
    data_tables()  # every model imported: the webhook's foreign keys name other domains' tables
    database = create_database(Settings(database_url=database_url, secret_key=SECRET_KEY))
    try:
        async with database.write_sessions() as session, session.begin():
            webhook = Webhook(
                organization_id=organization_id,
                url=url,
                event_type="patient.created",
                secret_sealed="",
            )
            session.add(webhook)
            await session.flush()
            webhook.secret_sealed = seal(new_secret(), secret_key=SECRET_KEY, webhook_id=webhook.id)
    finally:
        await database.dispose()


async def create_clients(port: int, api_key: str, duration: float, writers: int) -> list[int]:
    """createClient from ``writers`` connections for ``duration`` seconds; acknowledged ids."""
    headers = {"Authorization": f"Basic {api_key}", "AuthorizationSource": "API"}
    acknowledged: list[int] = []
    deadline = time.monotonic() + duration

    async def writer(number: int, http: httpx.AsyncClient) -> None:
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            fields = {
                "first_name": "Hook",
                "last_name": "Crash",
                "email": f"hook.{number}.{sequence}@example.com",
            }
            try:
                response = await http.post(
                    "/graphql", json={"query": CREATE, "variables": {"input": fields}}
                )
            except httpx.TransportError:
                return
            user = ((response.json().get("data") or {}).get("createClient") or {}).get("user")
            if user:
                acknowledged.append(int(user["id"]))

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30
    ) as http:
        await asyncio.gather(*(writer(n, http) for n in range(writers)))
    return acknowledged


def wait_for(
    received: Received, wanted: set[int], cut: set[str], seconds: float
) -> tuple[set[int], set[str]]:
    """Poll (bounded) until every wanted resource arrived and every send of ``cut`` (event ids)
    was begun again; the resources still missing and the cut sends not sent again."""
    deadline = time.monotonic() + seconds
    while True:
        with received.lock:
            missing = wanted - received.resources
            unsent = cut - received.begun_again(cut)
        if not (missing or unsent) or time.monotonic() > deadline:
            return missing, unsent
        time.sleep(0.2)


def wait_in_flight(received: Received, seconds: float) -> None:
    """Poll (bounded) until the receiver holds a POST unanswered, so that the kill cuts one."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with received.lock:
            if received.in_flight():
                return
        time.sleep(0.01)


def run(arguments: argparse.Namespace) -> int:
    """One crash-and-check round; the exit status of the script."""
    received = Received(arguments.receiver_delay)
    receiver = start_receiver(received)
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    with (
        fresh_database(arguments.database) as database_url,
        tempfile.TemporaryDirectory(prefix="carebook-crash-log-") as logs,
    ):
        env = server_env(database_url, None)
        env |= {
            "CAREBOOK_SECRET_KEY": SECRET_KEY,
            "CAREBOOK_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
            "CAREBOOK_WEBHOOK_POLL_SECONDS": "0.2",
            # The lease of a send cut by the kill lapses after 2 x 2 + 1 s: still a real lapse
            # (the restarted server finds the sends claimed and waits it out), not 14 s of it.
            "CAREBOOK_WEBHOOK_TIMEOUT_SECONDS": "2",
            "CAREBOOK_WEBHOOK_LEASE_MARGIN_SECONDS": "1",
        }
        carebook(env, "db", "upgrade")
        owner = provider(env, "hooks.crash@example.com", create=True)
        asyncio.run(add_webhook(database_url, int(owner["organization_id"]), url))
        port, log = free_port(), Path(logs) / "serve.log"
        server = start_server(env, port, arguments.workers, log)
        acknowledged = asyncio.run(
            create_clients(port, owner["api_key"], arguments.duration, arguments.writers)
        )
        # Right after the last answers (events committed, many not yet sent), once a POST is
        # in flight, its answer held back: whatever the machine's load, the kill cuts it.
        received.answering.clear()  # from now on no POST is answered until after the kill
        wait_in_flight(received, 30)
        kill(server)
        with received.lock:
            cut = received.in_flight()  # begun, and their sender gone before any answer
            before = len(received.resources & set(acknowledged))
            # Slow answers were for the kill to find sends in flight; after it, what is checked
            # is that every event arrives, and a backlog of a few hundred events sent at 0.3 s
            # each was most of the test's time.
            received.delay = 0.0
        received.answering.set()
        restarted = start_server(env, port, arguments.workers, log)
        missing, unsent = wait_for(received, set(acknowledged), cut, arguments.wait)
        kill(restarted)
    receiver.shutdown()
    repeats = len(received.event_ids) - len(set(received.event_ids))
    print(f"database={arguments.database} serve_workers={arguments.workers}")
    print(
        f"acknowledged_creates={len(acknowledged)} delivered_before_kill={before} "
        f"missing_after_restart={len(missing)} duplicate_deliveries={repeats} "
        f"sends_cut_by_kill={len(cut)} cut_sends_sent_again={len(cut - unsent)}"
    )
    return 1 if missing or unsent or not cut or not acknowledged else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of createClient")
    parser.add_argument("--workers", type=int, default=2, help="carebook serve --workers")
    parser.add_argument("--writers", type=int, default=4, help="concurrent HTTP writers")
    parser.add_argument(
        "--receiver-delay", type=float, default=0.3, help="seconds the receiver takes to answer"
    )
    parser.add_argument(
        "--wait", type=float, default=60.0, help="bound on the wait for the events after restart"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(parse()))
