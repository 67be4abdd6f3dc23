"""The floor of the writes: the statements ``carebook serve`` sends for createClient,
updateClient and bulkUpdateClients, replayed directly on carebook's engine (the SQL layer of
the writes).

Capture: each write is sent once through carebook's own ASGI app, in this process, on the bench
database; every statement its write transaction sends (the connections of the write sessions
only: BEGIN IMMEDIATE's transaction on SQLite, the pool's write transactions on PostgreSQL) is
kept with its parameters. The API-key look-up (cached by the server) and the read trail's batch
(after the commit, on its own connection) are not part of the write.

Replay: one transaction per request on carebook's write engine (so BEGIN IMMEDIATE and the
process's write gate on SQLite, ``synchronous=FULL`` commits), the same statements in the same
order, committed. What must differ per request to be a new, valid write is changed: the
patient's marked email (a new address per request), the new patient's id (the one the replayed
INSERT returned), and unique random values (signup token nonce and digest, request ids) drawn
again; time stamps are kept as captured. updateClient cycles through captures of several
patients, bulkUpdateClients through several moves (each a real one: a move that changed
nothing, to a group its patients were already in, is not kept), as the GraphQL run does. The
difference to the GraphQL layer is carebook's whole request: HTTP, Strawberry, authentication,
validation, the ORM's unit of work and the Python that builds the statements.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import event

from bench.client import Stats, run_load
from bench.generate import Generated
from bench.operations import Operation, write_operations
from carebook.app import create_app
from carebook.config import Settings
from carebook.db import hooks
from carebook.db.engine import Database, create_database

# The writes that get a floor. signUp's is argon2id alone (bench/hashing.py): its statements
# are a creation's, and its time is the hash's.
FLOORED = ("createClient", "updateClient", "bulkUpdateClients")
# How many different requests of each write are captured (replays cycle through them, as the
# GraphQL run cycles through its patients and, for bulkUpdateClients, groups).
VARIANTS = {"createClient": 1, "updateClient": 16, "bulkUpdateClients": 4}
# Columns whose values must be new per request (a unique index, or an id of the request).
FRESH_COLUMNS = frozenset({"nonce", "token_digest", "request_id"})
_INSERT_COLUMNS = re.compile(r"^\s*INSERT INTO \S+ \(([^)]*)\)", re.IGNORECASE)
_USERS_INSERT = re.compile(r"^\s*INSERT INTO users\b", re.IGNORECASE)
_BULK_MOVE = re.compile(r"^\s*UPDATE users SET user_group_id=", re.IGNORECASE)
# Extra requests a capture may send when one wrote nothing (a bulk move to the group its
# patients were in already).
_SPARE = 8


@dataclass
class Statement:
    """One statement of a captured write, with what the replay changes in it."""

    sql: str
    parameters: Any  # a tuple, or a list of tuples (executemany)
    many: bool
    # Per parameter position (of each row): whether its value is drawn again.
    fresh: set[int] = field(default_factory=set)


@dataclass
class Captured:
    """One request's write transaction."""

    statements: list[Statement]
    marker: str | None  # the text in the created patient's email, None for updates
    new_id: int | None  # the created patient's id at capture


def _fresh_positions(sql: str) -> set[int]:
    match = _INSERT_COLUMNS.match(sql)
    if match is None:
        return set()
    columns = [c.strip().strip('"') for c in match.group(1).split(",")]
    return {i for i, name in enumerate(columns) if name in FRESH_COLUMNS}


async def capture(world: Generated, database_url: str, run_id: str) -> dict[str, list[Captured]]:
    """Each floored write's transactions, sent through carebook's app in this process."""
    settings = Settings(database_url=database_url)
    database = create_database(settings)
    app = create_app(settings, database)
    recorded: list[Statement] = []
    # Only the request's first write transaction: after its commit come the read trail's batch
    # and the caller's activity note, which are not the write.
    committed: list[bool] = [False]

    def listen(conn: Any, _c: Any, sql: str, parameters: Any, _x: Any, many: bool) -> None:
        if committed[0] or not conn.get_execution_options().get(hooks.WRITE_OPTION, False):
            return
        if sql.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            return
        rows = [tuple(p) for p in parameters] if many else tuple(parameters or ())
        recorded.append(Statement(sql, rows, many, _fresh_positions(sql)))

    def on_commit(conn: Any) -> None:
        if recorded and conn.get_execution_options().get(hooks.WRITE_OPTION, False):
            committed[0] = True

    event.listen(database.engine.sync_engine, "before_cursor_execute", listen)
    event.listen(database.engine.sync_engine, "commit", on_commit)
    operations = {o.name: o for o in write_operations(world, f"floor{run_id}", 1)}
    headers = {"Authorization": f"Basic {world.api_key}", "AuthorizationSource": "API"}
    out: dict[str, list[Captured]] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name in FLOORED:
                out[name] = []
                for index in range(VARIANTS[name] + _SPARE):
                    if len(out[name]) == VARIANTS[name]:
                        break
                    recorded.clear()
                    committed[0] = False
                    variables = _variables(operations[name], index, run_id)
                    body = {"query": operations[name].document, "variables": variables}
                    answer = (await client.post("/graphql", json=body, headers=headers)).json()
                    payload = answer["data"][name]
                    assert payload.get("user") or payload.get("users"), answer
                    assert recorded, answer
                    marker = _marker(run_id, index) if name == "createClient" else None
                    new_id = int(payload["user"]["id"]) if name == "createClient" else None
                    if name == "bulkUpdateClients" and not any(
                        _BULK_MOVE.match(statement.sql) for statement in recorded
                    ):
                        continue  # its patients were in that group already: nothing written
                    out[name].append(Captured(list(recorded), marker, new_id))
                if len(out[name]) < VARIANTS[name]:
                    raise RuntimeError(f"{name}: too few captures that write ({len(out[name])})")
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", listen)
        event.remove(database.engine.sync_engine, "commit", on_commit)
        await database.dispose()
    return out


def _marker(run_id: str, index: int) -> str:
    return f"floor{run_id}x{index}"


def _variables(operation: Operation, index: int, run_id: str) -> dict[str, Any]:
    variables = operation.variables(index)
    if operation.name == "createClient":
        variables["input"]["email"] = f"{_marker(run_id, index)}@example.com"
    return variables


def _random_like(value: Any) -> Any:
    if isinstance(value, str):
        return secrets.token_hex(max(len(value), 2) // 2 + 1)[: len(value)]
    return value


class Replayer:
    """Turns a captured transaction into the next request's statements."""

    def __init__(self, captured: Captured) -> None:
        self.captured = captured
        # One new address per request, the same in every statement of it.
        self.marker = f"{captured.marker}r{uuid.uuid4().hex[:12]}"

    def row(self, values: tuple[Any, ...], fresh: set[int], new_id: int | None) -> tuple[Any, ...]:
        """A row of parameters for this request (time stamps are kept as captured)."""
        changed: list[Any] = []
        for i, value in enumerate(values):
            if isinstance(value, list):  # PostgreSQL's multi-row inserts: an array per column
                changed.append([self._one(item, i in fresh, new_id) for item in value])
            else:
                changed.append(self._one(value, i in fresh, new_id))
        return tuple(changed)

    def _one(self, value: Any, fresh: bool, new_id: int | None) -> Any:
        marker, old_id = self.captured.marker, self.captured.new_id
        if fresh:
            return _random_like(value)
        if marker is not None and isinstance(value, str) and marker in value:
            return value.replace(marker, self.marker)
        if new_id is not None and type(value) is int and value == old_id:
            return new_id
        return value


async def replay(engine: Any, captured: Captured) -> None:
    """One request: the captured statements in a committed write transaction."""
    replayer = Replayer(captured)
    new_id: int | None = None
    async with engine.begin() as connection:
        for statement in captured.statements:
            if statement.many:
                rows = [replayer.row(r, statement.fresh, new_id) for r in statement.parameters]
                await connection.exec_driver_sql(statement.sql, rows)
                continue
            values = replayer.row(statement.parameters, statement.fresh, new_id)
            result = await connection.exec_driver_sql(statement.sql, values)
            if (
                captured.new_id is not None
                and new_id is None
                and _USERS_INSERT.match(statement.sql)
            ):
                returned = result.first() if result.returns_rows else None
                new_id = int(returned[0]) if returned is not None else int(result.lastrowid)


async def measure(
    database_url: str,
    name: str,
    variants: list[Captured],
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
) -> Stats:
    """One floored write replayed from this process on carebook's write engine."""
    database: Database = create_database(Settings(database_url=database_url))
    engine = database.engine.execution_options(**{hooks.WRITE_OPTION: True})

    async def call(index: int) -> tuple[bool, str | None]:
        await replay(engine, variants[index % len(variants)])
        return True, None

    try:
        return await run_load(
            name, "sql", call, concurrency=concurrency, duration=duration,
            max_requests=max_requests, warmup=0,
        )  # fmt: skip
    finally:
        await database.dispose()


def statement_counts(captures: dict[str, list[Captured]]) -> dict[str, int]:
    """Statements per request of each floored write (its first capture)."""
    return {name: len(variants[0].statements) for name, variants in captures.items()}
