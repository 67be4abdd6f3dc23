"""The peer layer: PostGraphile 4, the Node GraphQL server over PostgreSQL, on the same rows.

On PostgreSQL the runner installs PostGraphile 4 from npm once into ``bench/.peer/`` (git-ignored,
reused by later runs), starts it as its documentation says to, over the bench database::

    NODE_ENV=production node bench/.peer/node_modules/.bin/postgraphile \\
        --connection postgres://postgres@127.0.0.1:5432/carebook_bench --schema public \\
        --host 127.0.0.1 --port PORT --disable-query-log --disable-graphiql --cluster-workers 2

and sends it the two reads the issue compares: one patient by id (``userById``, Carebook's
``user(id)``) and the first page of 10 patients in the order of Carebook's ``users`` first page
(``allUsers`` with the organization and role as conditions). Its documents read the fields
Carebook's bench documents read (``USER_FIELDS`` of ``bench/operations.py``), in PostGraphile's
camelCase. PostGraphile does no authentication, no access check and no audit trail: it answers
whoever connects, with the database role of its connection string.

``--cluster-workers`` (Node's cluster module: a supervisor hands each connection to one of N
workers) gives it as many serving processes as ``carebook serve --workers``; with one worker it
runs as a single process. SQLite runs skip this layer (:data:`SKIPPED_ON_SQLITE`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import spread
from bench.client import HttpCaller, ServerCpu, Stats, run_load
from bench.generate import Generated, asyncpg_dsn
from bench.operations import USER_FIELDS, Operation
from carebook.search.arguments import ListArgs

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / "bench" / ".peer"
PACKAGE = "postgraphile@4"
NAME = "PostGraphile"
# --prefer-offline: npm's cache, when warm, spares the registry's round trips.
NPM_INSTALL = ("npm", "install", "--prefer-offline", "--no-audit", "--no-fund")
SKIPPED_ON_SQLITE = "PostGraphile needs PostgreSQL: no peer layer on SQLite."
# Started as in production (no development checks or error stacks).
ENV = {"NODE_ENV": "production"}
# Node compiles hot code only after many calls: measured on the bench database, PostGraphile's CPU
# per user(id) fell from 2.1 to 0.8 ms over its first 2,000 requests. Each read is warmed with
# this many requests (at most this many seconds) before it is measured.
WARM_REQUESTS = 2000
WARM_SECONDS = 10.0


def camel(name: str) -> str:
    """PostGraphile's field name for a column (``phone_number`` -> ``phoneNumber``)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


FIELDS = USER_FIELDS.split()
PEER_FIELDS = " ".join(camel(f) for f in FIELDS)


def order_by(sort: str) -> str:
    """PostGraphile's ``orderBy`` for a Carebook sort key, with the id as tie-breaker as Carebook.

    ``last_name_desc`` -> ``[LAST_NAME_DESC, ID_DESC]``.
    """
    name, _, direction = sort.rpartition("_")
    return f"[{name.upper()}_{direction.upper()}, ID_{direction.upper()}]"


def user_document() -> str:
    """One patient by id: Carebook's ``user(id)``."""
    return f"query($id: Int!) {{ userById(id: $id) {{ {PEER_FIELDS} }} }}"


def first_page_document(args: ListArgs | None = None) -> str:
    """The first page of ``users`` without arguments: the organization's patients, in Carebook's
    default order (last name, descending), as many as Carebook's default page."""
    args = args or ListArgs()
    return (
        f"query($organizationId: Int!) {{ allUsers(first: {args.limit}, "
        f"orderBy: {order_by(args.sort)}, "
        'condition: {organizationId: $organizationId, role: "patient"}) '
        f"{{ nodes {{ {PEER_FIELDS} }} }} }}"
    )


@dataclass(frozen=True)
class PeerQuery:
    """One read sent to PostGraphile: its document, variables per request number, its answer."""

    name: str
    document: str
    variants: list[dict[str, Any]]
    rows: Callable[[dict[str, Any]], list[dict[str, Any]] | None]
    expected_rows: int

    def body(self, index: int) -> bytes:
        variables = self.variants[index % len(self.variants)]
        return json.dumps({"query": self.document, "variables": variables}).encode()

    def answer(self, payload: bytes) -> list[dict[str, Any]] | None:
        """The rows of an answer, or None when it has errors or no data."""
        data = json.loads(payload)
        if data.get("errors") or not isinstance(data.get("data"), dict):
            return None
        return self.rows(data["data"])

    def check(self, _status: int, payload: bytes) -> bool:
        rows = self.answer(payload)
        return rows is not None and len(rows) == self.expected_rows


def _one(data: dict[str, Any]) -> list[dict[str, Any]] | None:
    user = data.get("userById")
    return [user] if isinstance(user, dict) else None


def _page(data: dict[str, Any]) -> list[dict[str, Any]] | None:
    nodes = (data.get("allUsers") or {}).get("nodes")
    return nodes if isinstance(nodes, list) else None


def queries(world: Generated, reads: list[Operation]) -> dict[str, PeerQuery]:
    """The peer's version of the compared reads, on the same variants (the same patient ids)."""
    by_name = {operation.name: operation for operation in reads}
    found = {}
    if "user" in by_name:
        ids = [{"id": int(v["id"])} for v in by_name["user"].variants]
        found["user"] = PeerQuery("user", user_document(), ids, _one, 1)
    if "users_first" in by_name:
        expected = min(ListArgs().limit or 10, world.patients)
        variables = [{"organizationId": world.organization_id}]
        found["users_first"] = PeerQuery(
            "users_first", first_page_document(), variables, _page, expected
        )
    return found


# --- comparing answers ------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A field's value as text: ids are strings in Carebook's answers and numbers in the peer's."""
    return None if value is None else str(value)


def carebook_rows(operation: Operation, payload: bytes) -> list[tuple[str | None, ...]]:
    """The rows of a Carebook answer, as comparable tuples in ``FIELDS`` order."""
    value = json.loads(payload)["data"][operation.root]
    rows = value if isinstance(value, list) else [value] if value else []
    return [tuple(_text(row[f]) for f in FIELDS) for row in rows]


def peer_rows(query: PeerQuery, payload: bytes) -> list[tuple[str | None, ...]]:
    """The rows of a PostGraphile answer, as comparable tuples in ``FIELDS`` order."""
    return [tuple(_text(row[camel(f)]) for f in FIELDS) for row in query.answer(payload) or []]


def difference(
    carebook: list[tuple[str | None, ...]], peer: list[tuple[str | None, ...]]
) -> str | None:
    """Why two answers differ (the first differing row, without patient data), or None."""
    if len(carebook) != len(peer):
        return f"{len(carebook)} rows from Carebook, {len(peer)} from {NAME}"
    for index, (ours, theirs) in enumerate(zip(carebook, peer, strict=True)):
        fields = [f for f, a, b in zip(FIELDS, ours, theirs, strict=True) if a != b]
        if fields:
            return f"row {index + 1} differs in {', '.join(fields)}"
    return None


def compare(
    carebook_port: int,
    headers: dict[str, str],
    peer_port: int,
    operation: Operation,
    query: PeerQuery,
    variants: int = 5,
) -> str | None:
    """Whether Carebook and the peer answer the first ``variants`` requests with the same rows."""
    for index in range(min(variants, len(query.variants))):
        ours = httpx.post(
            f"http://127.0.0.1:{carebook_port}/graphql",
            content=operation.body(index),
            headers={**headers, "Content-Type": "application/json"},
        ).content
        theirs = httpx.post(
            f"http://127.0.0.1:{peer_port}/graphql",
            content=query.body(index),
            headers={"Content-Type": "application/json"},
        ).content
        found = difference(carebook_rows(operation, ours), peer_rows(query, theirs))
        if found:
            return f"request {index + 1}: {found}"
    return None


# --- installing and starting --------------------------------------------------------------------


def cli() -> Path:
    """PostGraphile's command-line script in ``bench/.peer/``."""
    return PEER_DIR / "node_modules" / ".bin" / "postgraphile"


def install(log: Callable[[str], None]) -> str:
    """Install PostGraphile 4 into ``bench/.peer/`` unless it is there; its version."""
    manifest = PEER_DIR / "node_modules" / "postgraphile" / "package.json"
    if not manifest.exists() or not cli().exists():
        log(f"installing {PACKAGE} from npm into {PEER_DIR.relative_to(ROOT)}/ (once)")
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [*NPM_INSTALL, "--prefix", str(PEER_DIR), PACKAGE],
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


def connection_string(database_url: str) -> str:
    """libpq's form of the bench's SQLAlchemy URL (``postgresql+asyncpg://`` -> ``postgres://``)."""
    return asyncpg_dsn(database_url).replace("postgresql://", "postgres://", 1)


def command(database_url: str, workers: int, port: int) -> list[str]:
    """PostGraphile as a user starts it in production, with ``workers`` serving processes."""
    return [
        "node",
        str(cli()),
        "--connection",
        connection_string(database_url),
        "--schema",
        "public",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-query-log",
        "--disable-graphiql",
        *(["--cluster-workers", str(workers)] if workers > 1 else []),
    ]


def shown(parts: list[str]) -> str:
    """The command as the report prints it (the script path relative to the checkout)."""
    return " ".join(part.replace(str(ROOT) + os.sep, "") for part in parts)


LISTENING = re.compile(r"PostGraphile v\S+ .*listening on port")


def ready(port: int, log_file: Path, workers: int) -> bool:
    """True when every worker listens (one line each in its log) and the schema answers."""
    listening = LISTENING.findall(log_file.read_text(encoding="utf-8", errors="replace"))
    if len(listening) < workers:
        return False
    answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"})
    return answer.status_code == 200


# --- measuring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """How the peer is driven: the runner's settings for reads, and the warm-up before them."""

    concurrency: int
    duration: float
    max_requests: int
    warmup: int
    warm_requests: int = WARM_REQUESTS
    warm_seconds: float = WARM_SECONDS


async def measure(port: int, pid: int, workers: int, query: PeerQuery, load: Load) -> Stats:
    """The same requests against PostGraphile (supervisor ``pid``), connections spread evenly,
    warmed up first (``WARM_REQUESTS``), with the CPU time of its processes per request (as
    Carebook's GraphQL layer)."""
    caller = HttpCaller(port, {}, lambda i: ("/graphql", query.body(i)), query.check)
    await spread.fill(caller, load.concurrency, pid, workers)
    await run_load(
        query.name, "warm-up", caller, concurrency=load.concurrency, duration=load.warm_seconds,
        max_requests=load.warm_requests, warmup=0,
    )  # fmt: skip
    cpu = ServerCpu(pid)
    stats = await run_load(
        query.name,
        "peer",
        caller,
        concurrency=load.concurrency,
        duration=load.duration,
        max_requests=load.max_requests,
        warmup=load.warmup,
    )
    stats.server_cpu_ms = cpu.ms_per_request(stats.requests + load.warmup)
    await caller.close()
    return stats
