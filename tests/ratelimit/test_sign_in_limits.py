"""signIn's limits per account and per client address: 429, Retry-After, recovery."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select
from tests.ratelimit.conftest import Clock, MakeClient
from tests.support.auth_helpers import count_rows
from tests.support.world import PATIENT_PASSWORD, World

from carebook.audit.models import AuditEvent
from carebook.auth.models import SessionToken
from carebook.db.engine import Database

SIGN_IN = """mutation($email: String, $password: String) {
  signIn(input: {email: $email, password: $password}) { token messages { message } } }"""
SIGN_IN_USER = """mutation($e: String, $p: String) {
  signIn(input: {email: $e, password: $p}) { user { id } } }"""
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
    assert body["data"] == {"signIn": None}  # the payload is nullable, as Healthie's
    [error] = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retry_after": retry_after}
    assert f"try again in {retry_after} seconds" in error["message"]


ATTACKER, OWNER = "10.0.0.66", "10.0.0.2"
# Three free failures per email, then waits of 2, 4, 8, ... seconds, at most 60.
BACKOFF = {
    "sign_in_account_limit": 3,
    "sign_in_backoff_base_seconds": 2,
    "sign_in_backoff_max_seconds": 60,
    "sign_in_account_window_seconds": 3600,
}


def token(response: httpx.Response) -> str | None:
    assert response.status_code == 200, response.text
    value: str | None = response.json()["data"]["signIn"]["token"]
    return value


async def test_a_strangers_failures_do_not_stop_the_owner_from_another_address(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    attacker = await client_with(address=ATTACKER, **BACKOFF)
    statuses = [(await sign_in(attacker, KNOWN, "wrong")).status_code for _ in range(8)]
    assert statuses == [200, 200, 200] + [429] * 5
    # The same email with other case and spaces is the same account: still no lock-out.
    owner = await client_with(address=OWNER, **BACKOFF)
    assert token(await sign_in(owner, "  Patient.A@Example.com ", PATIENT_PASSWORD))


async def test_an_address_that_failed_waits_twice_as_long_after_each_failure(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    attacker = await client_with(address=ATTACKER, **BACKOFF)
    for _ in range(3):
        assert token(await sign_in(attacker, KNOWN, "wrong")) is None
    for wait in (2, 4, 8, 16, 32, 60, 60):
        assert_limited(await sign_in(attacker, KNOWN, "wrong"), retry_after=wait)
        clock.advance(wait - 1)
        # A refused attempt counts no failure: the wait only runs down.
        assert_limited(await sign_in(attacker, KNOWN, "wrong"), retry_after=1)
        clock.advance(1)
        assert token(await sign_in(attacker, KNOWN, "wrong")) is None


async def test_each_new_address_gets_one_guess_then_waits_by_the_accounts_count(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    first = await client_with(address=ATTACKER, **BACKOFF)
    for _ in range(3):
        await sign_in(first, KNOWN, "wrong")
    others = [await client_with(address=f"10.0.1.{i}", **BACKOFF) for i in range(3)]
    for client in others:  # an address that has not failed is not held back...
        assert token(await sign_in(client, KNOWN, "wrong")) is None
    # ...until it fails: 6 failures, so every address that failed waits 2 * 2 ** (6 - 3) s.
    for client in [first, *others]:
        assert_limited(await sign_in(client, KNOWN, "wrong"), retry_after=16)
    clock.advance(16)
    # The wait runs from each address's own last failure; its length doubles with the
    # account's count, whichever address failed.
    assert token(await sign_in(others[0], KNOWN, "wrong")) is None
    assert_limited(await sign_in(others[0], KNOWN, "wrong"), retry_after=32)
    assert_limited(await sign_in(first, KNOWN, "wrong"), retry_after=32 - 16)


async def test_a_stranger_cannot_push_back_the_wait_of_an_owner_who_mistyped(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    # A day-long memory of failures, so the attacker's count never runs out.
    config = {**BACKOFF, "sign_in_account_window_seconds": 86400}
    owner = await client_with(address=OWNER, **config)
    attacker = await client_with(address=ATTACKER, **config)
    for _ in range(3):
        assert token(await sign_in(attacker, KNOWN, "wrong")) is None
    assert token(await sign_in(owner, KNOWN, "typo")) is None  # the owner mistypes once
    typo_at = clock.now
    # The attacker fails again as soon as each of its waits ends; the owner keeps trying the
    # right password. The owner waits at most the longest wait (60 s) after their own typo.
    for _ in range(100):
        answered = await sign_in(owner, KNOWN, PATIENT_PASSWORD)
        if answered.status_code != 429:
            break
        assert clock.now + int(answered.headers["retry-after"]) <= typo_at + 60
        guess = await sign_in(attacker, KNOWN, "wrong")
        if guess.status_code == 429:
            clock.advance(int(guess.headers["retry-after"]))
            assert token(await sign_in(attacker, KNOWN, "wrong")) is None
    assert token(answered)
    assert clock.now <= typo_at + 60


async def test_a_refusal_does_not_tell_whether_the_password_was_right(
    client_with: MakeClient, world: World, database: Database, clock: Clock
) -> None:
    # The attacker's address (or a network shared with the owner) is held back whatever it
    # sends: the password is not checked, so the answer cannot depend on it.
    attacker = await client_with(address=ATTACKER, **BACKOFF)
    for _ in range(3):
        await sign_in(attacker, KNOWN, "wrong")
    tokens = await count_rows(database, SessionToken)
    right = answer(await sign_in(attacker, KNOWN, PATIENT_PASSWORD))
    wrong = answer(await sign_in(attacker, KNOWN, "wrong"))
    unknown = answer(await sign_in(attacker, "nobody@example.com", PATIENT_PASSWORD))
    assert right == wrong
    assert right[0] == 429
    assert unknown[0] == 200  # another email has its own count
    assert await count_rows(database, SessionToken) == tokens  # nothing was executed


async def test_an_unknown_email_is_answered_exactly_like_a_known_one(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    client = await client_with(sign_in_account_limit=2)
    known = [answer(await sign_in(client, KNOWN, "wrong")) for _ in range(4)]
    unknown = [answer(await sign_in(client, "nobody@example.com", "wrong")) for _ in range(4)]
    assert known == unknown
    assert [status for status, _, _ in known] == [200, 200, 429, 429]


async def test_failures_are_forgotten_after_the_window(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    client = await client_with(
        sign_in_account_limit=1,
        sign_in_account_window_seconds=60,
        sign_in_backoff_base_seconds=1000,
        sign_in_backoff_max_seconds=1000,
    )
    await sign_in(client, KNOWN, "wrong")
    assert_limited(await sign_in(client, KNOWN, PATIENT_PASSWORD), retry_after=1000)
    clock.advance(60)
    assert token(await sign_in(client, KNOWN, PATIENT_PASSWORD))


async def test_a_success_takes_its_addresses_failures_off_the_count(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    owner = await client_with(address=OWNER, **BACKOFF)
    for _ in range(3):
        assert token(await sign_in(owner, KNOWN, "typo")) is None
    assert_limited(await sign_in(owner, KNOWN, PATIENT_PASSWORD), retry_after=2)
    clock.advance(2)
    assert token(await sign_in(owner, KNOWN, PATIENT_PASSWORD))
    # The owner's own mistakes no longer count: three free failures again, then the wait.
    statuses = [(await sign_in(owner, KNOWN, "typo")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


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


async def test_the_owner_passes_during_a_concurrent_attack(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    # Separate pools, as separate server processes would have.
    attacker = await client_with(address=ATTACKER, own_engine=True, **BACKOFF)
    owner = await client_with(address=OWNER, own_engine=True, **BACKOFF)
    guesses = [sign_in(attacker, KNOWN, f"guess {i}") for i in range(12)]
    *attempts, signed_in = await asyncio.gather(*guesses, sign_in(owner, KNOWN, PATIENT_PASSWORD))
    assert token(signed_in)
    # The owner's own attempt counts as a failure of the account until its password is
    # checked: when it is counted among the first three, one guess fewer gets through (CI saw
    # 2 under load; the order of concurrent claims is not fixed). Never more than the 3 free.
    guessed = sorted(r.status_code for r in attempts)
    assert guessed in ([200] * 3 + [429] * 9, [200] * 2 + [429] * 10)


async def test_an_ipv6_client_is_counted_by_its_64_and_audited_in_full(
    client_with: MakeClient, world: World, database: Database, clock: Clock
) -> None:
    # One subscriber holds a whole /64: its addresses share one count of attempts...
    same_64 = [
        await client_with(address=f"2001:db8:1:2::{i:x}", sign_in_address_limit=3)
        for i in range(1, 5)
    ]
    statuses = [(await sign_in(client, KNOWN, "wrong")).status_code for client in same_64]
    assert statuses == [200, 200, 200, 429]
    # ...and another /64 has its own.
    other = await client_with(address="2001:db8:1:3::1", sign_in_address_limit=3)
    # Reading the user back is what the audit trail records, with the full address.
    variables = {"e": KNOWN, "p": PATIENT_PASSWORD}
    signed_in = await other.post("/graphql", json={"query": SIGN_IN_USER, "variables": variables})
    assert signed_in.json()["data"]["signIn"]["user"]
    async with database.read_sessions() as session:
        recorded = select(AuditEvent.client_address).where(AuditEvent.operation == "signIn")
        assert list((await session.execute(recorded)).scalars()) == ["2001:db8:1:3::1"]


async def test_an_ipv6_64_shares_one_backoff_for_an_email(
    client_with: MakeClient, world: World, clock: Clock
) -> None:
    first = await client_with(address="2001:db8:1:2::1", **BACKOFF)
    for _ in range(3):
        assert token(await sign_in(first, KNOWN, "wrong")) is None
    # A fresh address of the same /64 is not a new address that gets a free guess.
    fresh = await client_with(address="2001:db8:1:2::beef", **BACKOFF)
    assert_limited(await sign_in(fresh, KNOWN, "wrong"), retry_after=2)
