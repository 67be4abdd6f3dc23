"""signUp's limit per client address."""

from __future__ import annotations

import httpx
from tests.ratelimit.conftest import Clock, MakeClient
from tests.support.auth_helpers import count_rows
from tests.support.world import World

from carebook.db.engine import Database
from carebook.users.models import User

SIGN_UP = """mutation($email: String, $dietitian_id: String) {
  signUp(input: {first_name: "Mei", last_name: "Chen", email: $email,
    password: "b@se3ball rocks", role: "patient", dietitian_id: $dietitian_id}) {
    user { id } messages { message } } }"""


async def sign_up(client: httpx.AsyncClient, world: World, email: str) -> httpx.Response:
    variables = {"email": email, "dietitian_id": str(world.a.provider.user_id)}
    return await client.post("/graphql", json={"query": SIGN_UP, "variables": variables})


async def test_sign_ups_per_address_are_limited_and_recover(
    client_with: MakeClient, world: World, database: Database, clock: Clock
) -> None:
    client = await client_with(sign_up_address_limit=1, sign_up_address_window_seconds=3600)
    first = await sign_up(client, world, "mei.one@example.com")
    assert first.json()["data"]["signUp"]["user"]
    users = await count_rows(database, User)
    refused = await sign_up(client, world, "mei.two@example.com")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3600"
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert await count_rows(database, User) == users
    clock.advance(3600)
    assert (await sign_up(client, world, "mei.two@example.com")).json()["data"]["signUp"]["user"]


async def test_the_addresses_of_one_ipv6_64_share_one_limit(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    first = await client_with(address="2001:db8:5:6::1", sign_up_address_limit=1)
    assert (await sign_up(first, world, "mei.one@example.com")).json()["data"]["signUp"]["user"]
    rotated = await client_with(address="2001:db8:5:6:a:b:c:d", sign_up_address_limit=1)
    assert (await sign_up(rotated, world, "mei.two@example.com")).status_code == 429
