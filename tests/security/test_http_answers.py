"""What the HTTP layer answers (issue 22, item 10): unreadable bodies are a coded 400, nothing is
cached, and production keeps introspection for signed-in callers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.web import request_body
from carebook.web.request_body import BAD_REQUEST, MAX_DEPTH
from tests.support.world import World

SCHEMA_QUERY = "{ __schema { queryType { name } } }"
TYPE_QUERY = '{ __type(name: "User") { name } }'
FRAGMENT_QUERY = "query { ...F } fragment F on Query { __schema { types { name } } }"
ALIASED_QUERY = '{ t: __type(name: "Query") { fields { name } } }'
CREATE_CLIENT = """mutation($f: String, $l: String, $e: String) {
  createClient(input: {first_name: $f, last_name: $l, email: $e}) { user { id } } }"""


def _provider(world: World) -> dict[str, str]:
    return {"Authorization": f"Basic {world.a.provider.api_key}", "AuthorizationSource": "API"}


def _nested(depth: int) -> str:
    """``{"query": ..., "variables": {"v": [[...]]}}`` with lists ``depth`` deep."""
    return '{"query": "{ __typename }", "variables": {"v": ' + "[" * depth + "]" * depth + "}}"


async def _post_raw(client: httpx.AsyncClient, content: bytes | str) -> httpx.Response:
    if isinstance(content, str):
        content = content.encode()
    return await client.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )


def _bad_request(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == BAD_REQUEST
    assert response.json()["data"] is None
    return dict(error)


# --- (a) bodies that cannot be read -------------------------------------------------------------


async def test_a_body_nested_100000_deep_is_a_coded_400(client: httpx.AsyncClient) -> None:
    for body in [_nested(100_000), "[" * 100_000 + "]" * 100_000]:
        error = _bad_request(await _post_raw(client, body))
        assert "nested more than" in error["message"]


async def test_a_body_nested_past_the_limit_is_refused_and_within_it_is_served(
    client: httpx.AsyncClient,
) -> None:
    # The body, its "variables" and "v" take three levels; the lists the rest.
    error = _bad_request(await _post_raw(client, _nested(MAX_DEPTH - 1)))
    assert error["extensions"]["limit"] == MAX_DEPTH
    served = await _post_raw(client, _nested(MAX_DEPTH - 2))
    assert served.status_code == 200 and served.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"query": "\xff\xfe"}', b'"{ __typename }"', b"42", b"null"]
)
async def test_a_body_that_is_not_a_json_object_is_a_coded_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    _bad_request(await _post_raw(client, body))


async def test_a_gets_variables_may_be_null_and_its_refusals_name_the_parameter(
    client: httpx.AsyncClient,
) -> None:
    query = "query($v: String) { __typename }"
    for variables in ("null", "{}"):
        served = await client.get("/graphql", params={"query": query, "variables": variables})
        assert served.status_code == 200, served.text
        assert served.json() == {"data": {"__typename": "Query"}}
    too_deep = f"The query parameter `variables` is nested more than {MAX_DEPTH}"
    for name, value, says in [
        ("variables", "{not json", "The query parameter `variables` is not JSON."),
        ("extensions", "{not json", "The query parameter `extensions` is not JSON."),
        ("variables", "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), too_deep),
        ("variables", "[" * 5_000 + "]" * 5_000, too_deep),  # past the decoder's own limit
    ]:
        refused = await client.get("/graphql", params={"query": query, name: value})
        message = _bad_request(refused)["message"]
        assert message.startswith(says) and "body" not in message


def _with_variable(text: str) -> str:
    """A request whose variable ``v`` is ``text`` (JSON-escaped as given)."""
    return '{"query": "query($v: String) { __typename }", "variables": {"v": "' + text + '"}}'


def _with_operation_name(text: str) -> str:
    """A request whose operation name is ``text``: only the body's own check sees it."""
    return '{"query": "query Q { __typename }", "operationName": "' + text + '"}'


@pytest.mark.parametrize(
    "body",
    [
        _with_operation_name("Q\\u0000").encode(),  # an escaped NUL
        _with_operation_name("Q\\ud800").encode(),  # an escaped lone surrogate
        _with_operation_name("Q").encode().replace(b'"Q"}', b'"Q\xed\xa0\x80"}'),  # raw UTF-8
        _with_operation_name("Q\\u0000").encode("utf-16-le"),  # other encodings: always walked
        _with_operation_name("Q\ud800").encode("utf-16-le", "surrogatepass"),
        _with_operation_name("Q\\u0000").encode("utf-32"),
    ],
    ids=[
        "escaped NUL",
        "escaped surrogate",
        "raw surrogate",
        "UTF-16 NUL",
        "UTF-16 surrogate",
        "UTF-32 NUL",
    ],
)
async def test_the_bytes_fast_path_still_refuses_unstorable_text(
    client: httpx.AsyncClient, body: bytes
) -> None:
    answer = await _post_raw(client, body)
    assert answer.status_code == 200, answer.text
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_brackets_in_strings_are_not_nesting(client: httpx.AsyncClient) -> None:
    # More brackets than MAX_DEPTH, all in a string: the full walk runs, and finds nothing.
    served = await _post_raw(client, _with_variable("[{" * MAX_DEPTH))
    assert served.status_code == 200 and served.json() == {"data": {"__typename": "Query"}}
    assert request_body._plainly_fine(b'{"query": "{ __typename }"}')


# --- (b) no copy kept anywhere ------------------------------------------------------------------


async def test_every_graphql_answer_is_marked_no_store(
    client: httpx.AsyncClient, world: World
) -> None:
    provider = _provider(world)
    patient = {"query": "query($id: ID) { user(id: $id) { email } }"}
    answers = [
        await client.post(
            "/graphql", json={**patient, "variables": {"id": world.a.patient_id}}, headers=provider
        ),
        await client.post("/graphql", json={"query": "{ nope }"}, headers=provider),
        await client.post("/graphql", json={"query": "{ __typename }"}),
        await client.get("/graphql", params={"query": "{ __typename }"}),
        await client.get("/graphql", headers={"Accept": "text/html"}),  # GraphiQL
        await _post_raw(client, _nested(100_000)),
        await _post_raw(client, b"{not json"),
    ]
    # An Idempotency-Key's replay is the stored answer, patient data included.
    variables = {"f": "Ann", "l": "Lee", "e": "ann.lee@example.com"}
    keyed = provider | {"Idempotency-Key": "no-store-1"}
    for _ in range(2):
        answers.append(
            await client.post(
                "/graphql", json={"query": CREATE_CLIENT, "variables": variables}, headers=keyed
            )
        )
    assert answers[-1].headers.get("idempotent-replayed") == "true"
    assert "patient.a@example.com" in answers[0].text
    for answer in answers:
        assert answer.headers.get_list("cache-control") == ["no-store"], answer.request


async def test_set_password_pages_are_marked_no_store(client: httpx.AsyncClient) -> None:
    page = await client.get("/set_password?token=unknown")
    posted = await client.post(
        "/set_password",
        data={"token": "unknown", "password": "x", "password_confirmation": "x"},
    )
    for answer in (page, posted):
        assert answer.headers.get_list("cache-control") == ["no-store"]


async def test_an_oversized_body_is_marked_no_store(settings: Settings, database: Database) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 100}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        answer = await http.post("/graphql", json={"query": "{ __typename }" + " " * 200})
    assert answer.status_code == 413
    assert answer.headers.get_list("cache-control") == ["no-store"]


async def test_an_unhandled_error_is_marked_no_store_and_tells_nothing(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    # A database that cannot be reached: looking the API key up raises, and nothing handles it.
    unreachable = (
        f"sqlite+aiosqlite:///{tmp_path}/missing/carebook.db"
        if database_url.startswith("sqlite")
        else "postgresql+asyncpg://postgres@127.0.0.1:1/carebook"
    )
    broken = settings.model_copy(update={"database_url": unreachable})
    database = create_database(broken)
    transport = httpx.ASGITransport(app=create_app(broken, database), raise_app_exceptions=False)
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
    assert answer.headers.get_list("cache-control") == ["no-store"]
    assert answer.json() == {
        "data": None,
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ],
    }


# --- (c) introspection in production ------------------------------------------------------------


@pytest.fixture
async def production(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app in production mode (with a secret key of its own)."""
    # Production refuses the test payment provider (carebook.startup): none is named here.
    values = {
        "production": True,
        "secret_key": "a-test-secret-that-is-not-default",
        "payment_provider": None,
    }
    app = create_app(settings.model_copy(update=values), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


async def _codes(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None
) -> tuple[Any, list[str]]:
    answer = await client.post("/graphql", json={"query": query}, headers=headers or {})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body.get("data"), [e["extensions"]["code"] for e in body.get("errors") or []]


async def test_anonymous_introspection_is_refused_in_production(
    production: httpx.AsyncClient, world: World
) -> None:
    for query in (SCHEMA_QUERY, TYPE_QUERY, FRAGMENT_QUERY, ALIASED_QUERY):
        data, codes = await _codes(production, query)
        assert (data, codes) == (None, ["UNAUTHENTICATED"]), query
    # Rejected credentials are no credentials.
    rejected = {"Authorization": "Basic not-a-key", "AuthorizationSource": "API"}
    assert (await _codes(production, SCHEMA_QUERY, rejected))[0] is None
    # __typename is not introspection.
    assert await _codes(production, "{ __typename }") == ({"__typename": "Query"}, [])


async def test_signed_in_callers_introspect_in_production(
    production: httpx.AsyncClient, world: World
) -> None:
    token = {"Authorization": f"Bearer {world.a.patient_token}"}
    for headers in (_provider(world), token):
        for query in (SCHEMA_QUERY, TYPE_QUERY, FRAGMENT_QUERY):
            data, codes = await _codes(production, query, headers)
            assert codes == [] and data, (query, codes)


async def test_anonymous_introspection_stays_open_outside_production(
    client: httpx.AsyncClient,
) -> None:
    for query in (SCHEMA_QUERY, TYPE_QUERY, FRAGMENT_QUERY):
        data, codes = await _codes(client, query)
        assert codes == [] and data, (query, codes)


def test_the_fixture_bodies_are_what_they_claim() -> None:
    assert json.loads(_nested(5))["variables"]["v"] == [[[[[]]]]]
