"""signIn's limits per account and per client address: 429, Retry-After, recovery."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from tests.ratelimit.conftest import Clock, MakeClient
from tests.support.auth_helpers import count_rows
from tests.support.world import PATIENT_PASSWORD, World

from carebook.auth.models import SessionToken
from carebook.db.engine import Database

SIGN_IN = """mutation($email: String, $password: String) {
  signIn(input: {email: $email, password: $password}) { token messages { message } } }"""
KNOWN = "patient.a@example.com"


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    variables = {"email": email, "password": password}
    return await client.post("/graphql", json={"query": SIGN_IN, "variables": variables})


def answer(response: httpx.Response) -> tuple[int, str | None, Any]:
    """What a caller can observe: status, Retry-After and body."""
    return response.status_code, response.headers.get("retry-after"), response.json()


def assert_limited(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(retry_after)
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retry_after": retry_after}
    assert f"try again in {retry_after} seconds" in error["message"]


async def test_failed_attempts_per_account_are_limited_even_with_the_right_password(
    client_with: MakeClient, world: World, database: Database, clock: Clock
) -> None:
    client = await client_with(sign_in_account_limit=2, sign_in_account_window_seconds=600)
    for _ in range(2):
        response = await sign_in(client, KNOWN, "wrong")
        assert response.status_code == 200 and response.json()["data"]["signIn"]["messages"]
    clock.advance(100)
    tokens = await count_rows(database, SessionToken)
    assert_limited(await sign_in(client, KNOWN, PATIENT_PASSWORD), retry_after=500)
    assert await count_rows(database, SessionToken) == tokens  # nothing was executed


async def test_an_unknown_email_is_answered_exactly_like_a_known_one(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    client = await client_with(sign_in_account_limit=2)
    known = [answer(await sign_in(client, KNOWN, "wrong")) for _ in range(4)]
    unknown = [answer(await sign_in(client, "nobody@example.com", "wrong")) for _ in range(4)]
    assert known == unknown
    assert [status for status, _, _ in known] == [200, 200, 429, 429]


async def test_the_account_limit_recovers_after_its_window(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    client = await client_with(sign_in_account_limit=1, sign_in_account_window_seconds=60)
    await sign_in(client, KNOWN, "wrong")
    assert (await sign_in(client, KNOWN, PATIENT_PASSWORD)).status_code == 429
    clock.advance(60)
    response = await sign_in(client, KNOWN, PATIENT_PASSWORD)
    assert response.status_code == 200 and response.json()["data"]["signIn"]["token"]


async def test_a_successful_sign_in_ends_the_count_of_failures(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    client = await client_with(sign_in_account_limit=2)
    await sign_in(client, KNOWN, "wrong")
    assert (await sign_in(client, KNOWN, PATIENT_PASSWORD)).status_code == 200
    # Without the reset this would be the third attempt in the window.
    assert (await sign_in(client, KNOWN, "wrong")).status_code == 200


async def test_attempts_per_address_are_limited_whatever_the_email(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    client = await client_with(sign_in_address_limit=3, sign_in_address_window_seconds=300)
    for i in range(3):
        assert (await sign_in(client, f"guess{i}@example.com", "x")).status_code == 200
    assert_limited(await sign_in(client, KNOWN, PATIENT_PASSWORD), retry_after=300)
    # Another address is not affected.
    other = await client_with(address="10.0.0.2", sign_in_address_limit=3)
    assert (await sign_in(other, KNOWN, PATIENT_PASSWORD)).status_code == 200
    clock.advance(300)
    assert (await sign_in(client, KNOWN, PATIENT_PASSWORD)).status_code == 200


async def test_the_limit_holds_across_server_processes(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    # Two apps with their own connection pools stand for two servers behind a load balancer.
    first = await client_with(own_engine=True, sign_in_account_limit=3)
    second = await client_with(own_engine=True, sign_in_account_limit=3)
    statuses = [
        (await sign_in(client, KNOWN, "wrong")).status_code
        for client in (first, second, first, second, first)
    ]
    assert statuses == [200, 200, 200, 429, 429]


async def test_concurrent_attempts_cannot_overtake_the_count(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    client = await client_with(sign_in_account_limit=3)
    responses = await asyncio.gather(*(sign_in(client, KNOWN, "wrong") for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 429, 429, 429]
