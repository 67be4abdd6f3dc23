"""A lone UTF-16 surrogate anywhere in a request is refused with a code, and nothing is done.

``"\\ud800"`` is valid JSON that Python keeps as half a character, which no UTF-8 encoder takes:
it was an internal error on both databases, anonymous signIn and signUp included.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from carebook.db.engine import Database
from carebook.graphql.errors import BAD_USER_INPUT
from carebook.graphql.schema import build_schema
from carebook.graphql.text_guard import SURROGATE_MESSAGE
from carebook.users.models import User
from tests.support import db
from tests.support.world import World

LONE = "\ud800"
SIGN_IN = """mutation($email: String, $password: String) {
  signIn(input: {email: $email, password: $password}) { token messages { field message } } }"""
SIGN_UP = (
    """mutation($input: signUpInput) { signUp(input: $input) { token messages { message } } }"""
)
CREATE_CLIENT = """mutation($input: createClientInput) {
  createClient(input: $input) { user { id first_name } messages { field message } } }"""
BULK = """mutation($ids: [ID]) { bulkUpdateClients(input: {ids: $ids, active_status: false}) {
  users { id } messages { message } } }"""


async def _post(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    # Encoded by hand: json.dumps writes a lone surrogate as its \\u escape, as a client would.
    return await client.post(
        "/graphql",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


def _provider(world: World) -> dict[str, str]:
    return {"Authorization": f"Basic {world.a.provider.api_key}", "AuthorizationSource": "API"}


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [BAD_USER_INPUT]
    assert body["errors"][0]["message"] == SURROGATE_MESSAGE


async def test_sign_in_with_a_lone_surrogate_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    for variables in [
        {"email": "patient.a@example.com", "password": f"b@se3ball{LONE}"},
        {"email": f"patient.a{LONE}@example.com", "password": "b@se3ball rocks"},
    ]:
        _refused(await _post(client, {"query": SIGN_IN, "variables": variables}))


async def test_sign_up_with_a_lone_surrogate_is_refused_and_creates_nobody(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    before = await db.count(database, User)
    sign_up = {
        "role": "patient",
        "dietitian_id": str(world.a.provider.user_id),
        "first_name": f"Ann{LONE}",
        "last_name": "Lee",
        "email": "ann.lee@example.com",
        "password": "b@se3ball rocks",
    }
    _refused(await _post(client, {"query": SIGN_UP, "variables": {"input": sign_up}}))
    assert await db.count(database, User) == before


async def test_create_client_with_a_lone_surrogate_in_its_nested_input_writes_nothing(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    before = await db.count(database, User)
    body = {
        "query": CREATE_CLIENT,
        "variables": {"input": {"first_name": "Ann", "last_name": LONE}},
    }
    _refused(await _post(client, body, _provider(world)))
    # An Idempotency-Key digests the variables before anything runs: refused all the same.
    _refused(await _post(client, body, _provider(world) | {"Idempotency-Key": "key-1"}))
    # In an input field's name, which graphql-core would echo in its error.
    named = {"query": CREATE_CLIENT, "variables": {"input": {"first_name": "A", LONE: "x"}}}
    _refused(await _post(client, named, _provider(world)))
    assert await db.count(database, User) == before


async def test_a_lone_surrogate_in_a_list_is_refused(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    ids = [str(world.a.patient_id), f"1{LONE}"]
    _refused(await _post(client, {"query": BULK, "variables": {"ids": ids}}, _provider(world)))
    assert (await db.user_row(database, world.a.patient_id)).active


async def test_a_lone_surrogate_in_the_operation_name_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {"query": "query q { __typename }", "operationName": LONE}
    _refused(await _post(client, body, _provider(world)))


async def test_a_lone_surrogate_written_in_the_document_is_a_coded_error(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    before = await db.count(database, User)
    literal = (
        'mutation { createClient(input: {first_name: "A%s", last_name: "B"}) { user { id } } }'
    )
    # As a GraphQL escape the parser refuses it; as the character itself, the request is.
    for text, code in [("\\ud800", "GRAPHQL_PARSE_FAILED"), (LONE, BAD_USER_INPUT)]:
        response = await _post(client, {"query": literal % text}, _provider(world))
        assert response.status_code == 200
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]
    assert await db.count(database, User) == before


async def test_a_surrogate_pair_is_one_character_and_is_stored(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    person = {"first_name": "Ann \ud83d\ude00", "last_name": "Lee", "email": "ann@example.com"}
    variables = {"input": person}
    response = await _post(
        client, {"query": CREATE_CLIENT, "variables": variables}, _provider(world)
    )
    payload = response.json()["data"]["createClient"]
    assert payload["messages"] is None
    assert (await db.user_row(database, int(payload["user"]["id"]))).first_name == "Ann 😀"


async def test_the_schema_refuses_a_lone_surrogate_by_itself() -> None:
    # Outside HTTP (the schema run directly) the schema's own guard gives the same answer.
    result = await build_schema().execute(
        "query($k: String) { locationsCount(keywords: $k) }", variable_values={"k": LONE}
    )
    assert result.errors is not None
    assert [e.message for e in result.errors] == [SURROGATE_MESSAGE]
    assert [(e.extensions or {}).get("code") for e in result.errors] == [BAD_USER_INPUT]
