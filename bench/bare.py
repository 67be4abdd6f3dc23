"""The lower bound over HTTP: the same SQL and the same JSON, served by Starlette without GraphQL.

Started by the runner like the real server (uvicorn, same worker count):

    BENCH_DATABASE_URL=... BENCH_CAPTURES=captures.json \\
        uvicorn bench.bare:create_app --factory --workers N

``BENCH_CAPTURES`` holds, per operation and variant, the exact SQL statements (with parameters)
carebook's server sends for that request once warm (the document's columns only; no API-key
look-up, which the server keeps), as captured by the runner (``bench.operations.capture_sql``).
Each request replays them on one pooled connection of carebook's read engine (the connections
carebook's read sessions use) and shapes the rows into the JSON the GraphQL endpoint returns.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from carebook.config import Settings
from carebook.db.engine import create_database

# The fields the benchmark's GraphQL documents select.
FIELDS = ("id", "first_name", "last_name", "email", "phone_number", "dob", "active",
          "user_group_id")  # fmt: skip


def _value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in ("id", "user_group_id"):
        return str(value)
    if name == "active":
        return bool(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def shape(root: str, keys: list[str], rows: list[Any]) -> dict[str, Any]:
    """The GraphQL response body for these rows."""
    if root == "usersCount":
        return {"data": {root: rows[0][0]}}
    positions = [(name, keys.index(name)) for name in FIELDS]
    objects = [{name: _value(name, row[i]) for name, i in positions} for row in rows]
    if root == "user":
        return {"data": {root: objects[0] if objects else None}}
    return {"data": {root: objects}}


def create_app() -> Starlette:
    """The bare app (a uvicorn factory)."""
    database = create_database(Settings(database_url=os.environ["BENCH_DATABASE_URL"]))
    with open(os.environ["BENCH_CAPTURES"], encoding="utf-8") as handle:
        captures: dict[str, dict[str, Any]] = json.load(handle)

    async def endpoint(request: Request) -> Response:
        operation = captures[request.path_params["operation"]]
        body = await request.json()
        statements = operation["variants"][body["variant"] % len(operation["variants"])]
        counting = operation["root"] == "usersCount"
        async with database.read_engine.connect() as connection:
            keys: list[str] = list(FIELDS)
            rows: list[Any] = []
            for sql, params in statements:
                result = await connection.exec_driver_sql(sql, tuple(params))
                found_keys, found = list(result.keys()), list(result.all())
                # The answer is the last statement that reads the users' fields (a search may
                # end on a candidate look-up that found nobody), or the count.
                if counting or set(FIELDS) <= set(found_keys):
                    keys, rows = found_keys, found
        return JSONResponse(shape(operation["root"], keys, rows))

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/bare/{operation}", endpoint, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
