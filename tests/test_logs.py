"""The access log and the request id: JSON lines with the fields, never a variable's value; the
id echoed in ``X-Request-Id`` is the one the audit trail records."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from carebook import search
from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.logs import ACCESS_LOGGER, PINNED_LEVELS, JsonFormatter
from carebook.web.access_log import INVALID_NAME, operation_name
from tests.audit.events import stored
from tests.support.unreachable import unreachable_url
from tests.support.world import World

FIND = """# find a patient by email
query FindPatient($keywords: String) { users(keywords: $keywords) { id email } }"""


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, as the server's JSON formatter writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    # The test's own HTTP client logs the URLs it calls: not the server's log.
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    # The levels of CAREBOOK_LOG_LEVEL=DEBUG (carebook.logs.logging_config), the most telling.
    levels = {"": "DEBUG", ACCESS_LOGGER: "INFO", **PINNED_LEVELS}
    old = {name: logging.getLogger(name).level for name in levels}
    logging.getLogger().addHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in old.items():
            logging.getLogger(name).setLevel(level)


def _access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line["logger"] == ACCESS_LOGGER]


async def test_access_line_carries_the_fields_and_no_variable(
    client: httpx.AsyncClient, world: World, database: Database, log_lines: io.StringIO
) -> None:
    email = "patient.a@example.com"
    headers = {"Authorization": f"Basic {world.a.provider.api_key}", "AuthorizationSource": "API"}
    answer = await client.post(
        "/graphql",
        json={"query": FIND, "variables": {"keywords": email}},
        headers={**headers, "X-Request-ID": "trace-27"},
    )
    assert answer.status_code == 200 and email in answer.text  # the answer holds the patient
    assert answer.headers["x-request-id"] == "trace-27"
    [line] = _access_lines(log_lines)
    assert {k: line[k] for k in ("request_id", "method", "path", "operation", "status")} == {
        "request_id": "trace-27",
        "method": "POST",
        "path": "/graphql",
        "operation": "FindPatient",
        "status": 200,
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    everything = log_lines.getvalue()
    assert email not in everything and "keywords" not in everything
    # The trail recorded the read under the same id.
    assert await stored(database, request_id="trace-27", record_id=world.a.patient_id)


async def test_without_a_client_id_one_id_is_made_and_shared_with_the_trail(
    client: httpx.AsyncClient, world: World, database: Database, log_lines: io.StringIO
) -> None:
    headers = {"Authorization": f"Basic {world.a.provider.api_key}", "AuthorizationSource": "API"}
    answer = await client.post(
        "/graphql",
        json={"query": f"{{ user(id: {world.a.patient_id}) {{ id }} }}"},
        headers=headers,
    )
    rid = answer.headers["x-request-id"]
    assert len(rid) == 32
    [line] = _access_lines(log_lines)
    assert line["request_id"] == rid and line["operation"] is None
    assert await stored(database, request_id=rid, record_id=world.a.patient_id)


async def test_get_query_strings_and_unknown_paths_stay_out_of_the_log(
    client: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    secret_looking = "someone@example.com"
    await client.get(f"/graphql?query={{__typename}}&variables={{%22e%22:%22{secret_looking}%22}}")
    refused = await client.get(f"/patients/{secret_looking}")
    assert refused.status_code == 404 and refused.headers["x-request-id"]
    await client.get(f"/graphiql/assets/{secret_looking}")
    lines = _access_lines(log_lines)
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/graphql", 200),
        ("(other)", 404),
        ("/graphiql/assets/*", 404),
    ]
    assert secret_looking not in log_lines.getvalue()


async def test_refusals_before_graphql_are_logged_with_their_id(
    client: httpx.AsyncClient, settings: Settings, log_lines: io.StringIO
) -> None:
    too_big = b"x" * (settings.max_body_bytes + 1)
    answer = await client.post(
        "/graphql", content=too_big, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    [line] = _access_lines(log_lines)
    assert (line["status"], line["request_id"]) == (413, answer.headers["x-request-id"])


def test_operation_names() -> None:
    assert operation_name("Mine", "query Other { a }") == "Mine"
    assert operation_name("not a name@x", None) == INVALID_NAME
    assert operation_name(None, "  # c\n mutation  Save($a: ID) { a }") == "Save"
    assert operation_name(None, "fragment F on User { id } query Q { a }") is None
    assert operation_name(None, "{ a }") is None


async def test_an_internal_errors_request_id_is_the_requests(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(search, "count", broken)
    headers = {"Authorization": f"Basic {world.a.provider.api_key}", "AuthorizationSource": "API"}
    answer = await client.post("/graphql", json={"query": "{ usersCount }"}, headers=headers)
    [error] = answer.json()["errors"]
    assert error["extensions"]["request_id"] == answer.headers["x-request-id"]


async def test_an_unhandled_error_is_logged_and_answered_with_its_id(
    settings: Settings, database_url: str, tmp_path: Path, log_lines: io.StringIO
) -> None:
    # Starlette answers it outside every middleware: the 500 carries the id all the same.
    broken = settings.model_copy(update={"database_url": unreachable_url(database_url, tmp_path)})
    database = create_database(broken)
    app = create_app(broken, database)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            answer = await http.post(
                "/graphql",
                json={"query": "{ __typename }"},
                headers={"Authorization": "Basic some-key", "AuthorizationSource": "API"},
            )
    finally:
        await database.dispose()
    assert answer.status_code == 500
    [line] = _access_lines(log_lines)
    assert (line["status"], line["request_id"]) == (500, answer.headers["x-request-id"])
