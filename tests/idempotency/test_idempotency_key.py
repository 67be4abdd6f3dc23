"""Idempotency-Key on mutations: a retry returns the first answer and writes nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from tests.support.seed_documents import CREATE_CLIENT, GET_USER
from tests.support.world import World

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database, create_database
from carebook.idempotency.models import IdempotencyKey
from carebook.idempotency.store import purge_expired
from carebook.users.models import User

SIGN_UP = """mutation($input: signUpInput) { signUp(input: $input) {
  user { id } token messages { field message } } }"""


def _headers(api_key: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Basic {api_key}", "AuthorizationSource": "API"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def _client(email: str | None, first_name: str = "Ada") -> dict[str, Any]:
    variables: dict[str, Any] = {"first_name": first_name, "last_name": "Lovelace"}
    if email is None:
        variables["skipped_email"] = True
    else:
        variables["email"] = email
    return {"query": CREATE_CLIENT, "variables": variables}


async def _patients(database: Database, **where: Any) -> int:
    query = select(func.count()).select_from(User).filter_by(role="patient", **where)
    async with database.read_sessions() as session:
        return int((await session.execute(query)).scalar_one())


async def _records(database: Database) -> list[IdempotencyKey]:
    async with database.read_sessions() as session:
        return list((await session.execute(select(IdempotencyKey))).scalars())


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def test_retry_replays_the_first_answer_byte_for_byte(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = _headers(world.a.provider.api_key, str(uuid.uuid4()))
    body = _client("ada@example.com")
    first = await client.post("/graphql", json=body, headers=headers)
    again = await client.post("/graphql", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["data"]["createClient"]["messages"] is None
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _patients(database, email_key="ada@example.com") == 1


async def test_a_retry_that_reaches_another_server_process_is_replayed(
    client: httpx.AsyncClient, settings: Settings, world: World, database: Database
) -> None:
    """The state is in the database: a second app with its own engine sees the first's key."""
    headers = _headers(world.a.provider.api_key, str(uuid.uuid4()))
    body = _client(None, first_name="Roaming")
    first = await client.post("/graphql", json=body, headers=headers)
    other_engine = create_database(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, other_engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://other.test") as other:
            again = await other.post("/graphql", json=body, headers=headers)
    finally:
        await other_engine.dispose()
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await _patients(database, first_name="Roaming") == 1


async def test_same_key_with_another_request_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = _headers(world.a.provider.api_key, "key-1")
    await client.post("/graphql", json=_client("first@example.com"), headers=headers)
    other = await client.post("/graphql", json=_client("second@example.com"), headers=headers)
    assert other.status_code == 422
    assert _code(other) == "IDEMPOTENCY_KEY_REUSED"
    assert await _patients(database, email_key="second@example.com") == 0


async def test_concurrent_duplicates_write_once(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = _headers(world.a.provider.api_key, "same-request-sent-8-times")
    body = _client(None, first_name="Twin")
    responses = await asyncio.gather(
        *(client.post("/graphql", json=body, headers=headers) for _ in range(8))
    )
    kinds = [
        f"{r.status_code}{'-replay' if 'idempotent-replayed' in r.headers else ''}"
        for r in responses
    ]
    print("8 concurrent duplicates answered:", sorted(kinds))  # shown with -s
    assert await _patients(database, first_name="Twin") == 1
    fresh = [
        r for r in responses if r.status_code == 200 and "idempotent-replayed" not in r.headers
    ]
    assert len(fresh) == 1
    for response in responses:
        if response.status_code == 200:
            assert response.content == fresh[0].content
        else:  # still in flight when this duplicate looked: refused, nothing done
            assert (response.status_code, _code(response)) == (409, "IDEMPOTENCY_KEY_IN_USE")


async def test_keys_are_scoped_per_caller(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    body = _client(None, first_name="Scoped")
    first = await client.post(
        "/graphql", json=body, headers=_headers(world.a.provider.api_key, "k")
    )
    other = await client.post(
        "/graphql", json=body, headers=_headers(world.b.provider.api_key, "k")
    )
    assert first.status_code == other.status_code == 200
    assert "idempotent-replayed" not in other.headers
    assert other.content != first.content  # B's own patient, not A's answer
    org_b = world.b.provider.organization_id
    assert await _patients(database, first_name="Scoped", organization_id=org_b) == 1


async def test_queries_ignore_the_header(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    body = {"query": GET_USER, "variables": {"id": str(world.a.patient_id)}}
    headers = _headers(world.a.provider.api_key, "not a valid key: it has spaces")
    answers = [await client.post("/graphql", json=body, headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["data"]["user"]["id"] == str(world.a.patient_id)
    assert "idempotent-replayed" not in answers[1].headers
    assert await _records(database) == []


async def test_expired_records_no_longer_replay_and_are_purged(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = _headers(world.a.provider.api_key, "expiring")
    body = _client(None, first_name="Expiring")
    await client.post("/graphql", json=body, headers=headers)
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(IdempotencyKey).values(expires_at=utcnow()))
    again = await client.post("/graphql", json=body, headers=headers)
    assert "idempotent-replayed" not in again.headers
    assert await _patients(database, first_name="Expiring") == 2
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(IdempotencyKey).values(expires_at=utcnow()))
    assert await purge_expired(database, utcnow() + timedelta(seconds=1)) == 1
    assert await _records(database) == []


async def test_invalid_key_is_refused_before_anything_runs(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    for key in ("", "has space", "x" * 256, "caf\u00e9"):
        headers = {k.encode(): v.encode() for k, v in _headers(world.a.provider.api_key).items()}
        headers[b"Idempotency-Key"] = key.encode()  # raw UTF-8 bytes on the wire
        response = await client.post(
            "/graphql", json=_client(None, first_name="Invalid"), headers=headers
        )
        assert response.status_code == 400, key
        assert _code(response) == "IDEMPOTENCY_KEY_INVALID"
    assert await _patients(database, first_name="Invalid") == 0


async def test_a_mutation_that_failed_with_messages_does_not_consume_its_key(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = _headers(world.a.provider.api_key, "fails-first")
    bad = _client("not-an-email")
    first = await client.post("/graphql", json=bad, headers=headers)
    assert first.json()["data"]["createClient"]["messages"]
    assert await _records(database) == []
    again = await client.post("/graphql", json=bad, headers=headers)
    assert "idempotent-replayed" not in again.headers  # ran again: nothing had been written


async def test_a_key_whose_answer_was_lost_is_in_use_and_nothing_runs(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    """A server that died between the commit and storing the answer leaves the key taken."""
    headers = _headers(world.a.provider.api_key, "crashed")
    body = _client(None, first_name="Crashed")
    await client.post("/graphql", json=body, headers=headers)
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(IdempotencyKey).values(response_status=None, response_body=None)
        )
    again = await client.post("/graphql", json=body, headers=headers)
    assert (again.status_code, _code(again)) == (409, "IDEMPOTENCY_KEY_IN_USE")
    assert await _patients(database, first_name="Crashed") == 1


async def test_anonymous_sign_up_replays_its_token_and_the_answer_is_sealed(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    body = {
        "query": SIGN_UP,
        "variables": {
            "input": {
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": "grace@example.com",
                "password": "c0bol-compiler-1959",
                "role": "patient",
                "dietitian_id": str(world.a.provider.user_id),
            }
        },
    }
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/graphql", json=body, headers=headers)
    again = await client.post("/graphql", json=body, headers=headers)
    token = first.json()["data"]["signUp"]["token"]
    assert token, first.json()
    assert again.content == first.content
    assert await _patients(database, email_key="grace@example.com") == 1
    [record] = await _records(database)
    assert record.scope == "anonymous"
    assert record.response_body is not None
    assert token.encode() not in record.response_body
    assert b"grace" not in record.response_body


async def test_rejected_credentials_keep_no_key(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    headers = _headers("not-a-real-key", "rejected")
    body = _client(None, first_name="Nobody")
    answers = [await client.post("/graphql", json=body, headers=headers) for _ in range(2)]
    assert [_code(a) for a in answers] == ["UNAUTHENTICATED"] * 2
    assert "idempotent-replayed" not in answers[1].headers
    assert await _records(database) == []
