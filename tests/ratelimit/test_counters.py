"""What the counters store (hashed keys only) and how old windows are deleted."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from tests.ratelimit.conftest import Clock, MakeClient
from tests.support.world import World

from carebook.db.engine import Database
from carebook.ratelimit import backoff, guard
from carebook.ratelimit.backoff import BACKOFF_ROW, Backoff, Failures
from carebook.ratelimit.guard import Check
from carebook.ratelimit.models import RateLimitCounter
from carebook.ratelimit.service import Limit

SIGN_IN = """mutation($email: String) {
  signIn(input: {email: $email, password: "x"}) { messages { message } } }"""


async def rows(database: Database) -> list[tuple[str, int, int, int]]:
    async with database.read_sessions() as session:
        result = await session.execute(select(RateLimitCounter))
        return [(r.key_digest, r.window_index, r.hits, r.expires_at) for r in result.scalars()]


async def test_counters_hold_no_email_and_no_address(
    client_with: MakeClient, world: World, database: Database, clock: Clock
) -> None:
    client = await client_with(address="203.0.113.9", sign_in_account_limit=5,
                               sign_in_address_limit=5)  # fmt: skip
    email = "Patient.A@example.com"
    await client.post("/graphql", json={"query": SIGN_IN, "variables": {"email": email}})
    stored = await rows(database)
    # One per count: the address's window, the email's failures, the email's from this address.
    assert len(stored) == 3
    text = repr(stored).lower()
    for plain in (email.lower(), "patient.a", "203.0.113.9"):
        assert plain not in text


async def test_keys_depend_on_the_secret_key() -> None:
    limit = Limit("sign_in_account", 5, 60)
    check = Check(limit, "patient.a@example.com")
    assert check.key("one secret") != check.key("another secret")
    assert len(check.key("one secret")) == 64


async def test_ended_windows_are_deleted_and_current_ones_kept(
    database: Database, clock: Clock
) -> None:
    short, long = Limit("short", 5, 60), Limit("long", 5, 3600)
    checks = [Check(short, "a"), Check(long, "a")]
    assert await guard.attempt(database, secret="s", checks=checks) is None
    clock.advance(60)
    assert await guard.cleanup(database) == 1
    [(_, _, hits, expires)] = await rows(database)
    assert hits == 1 and expires == clock.now - 60 + 3600


async def test_a_refusal_reports_the_longest_wait(database: Database, clock: Clock) -> None:
    short, long = Limit("short", 1, 60), Limit("long", 1, 3600)
    checks = [Check(short, "a"), Check(long, "a")]
    assert await guard.attempt(database, secret="s", checks=checks) is None
    refused = await guard.attempt(database, secret="s", checks=checks)
    assert refused is not None and refused.retry_after == 3600


async def test_a_limit_of_zero_is_off(database: Database, clock: Clock) -> None:
    check = Check(Limit("off", 0, 60), "a")
    for _ in range(3):
        assert await guard.attempt(database, secret="s", checks=[check]) is None
    assert await rows(database) == []


async def test_forgotten_failures_are_deleted_with_ended_windows(
    client_with: MakeClient, world: World, database: Database, clock: Clock
) -> None:
    client = await client_with(sign_in_account_limit=5, sign_in_account_window_seconds=600)
    await client.post("/graphql", json={"query": SIGN_IN, "variables": {"email": "a@b.example"}})
    assert {(index, hits) for _, index, hits, _ in await rows(database)} == {(BACKOFF_ROW, 1)}
    clock.advance(599)
    assert await guard.cleanup(database) == 0
    clock.advance(1)
    assert await guard.cleanup(database) == 2
    assert await rows(database) == []


def test_the_backoff_doubles_from_its_base_up_to_its_maximum() -> None:
    policy = Backoff("b", free=3, base_seconds=2, max_seconds=60, forget_seconds=3600)
    assert [policy.wait_after(n) for n in range(10)] == [0, 0, 0, 2, 4, 8, 16, 32, 60, 60]
    assert policy.wait_after(10**9) == 60
    assert not Backoff("off", free=0, base_seconds=1, max_seconds=1, forget_seconds=1).enabled


async def test_cleanup_never_waits_for_a_count_an_attempt_holds(
    database: Database, clock: Clock, backend: str
) -> None:
    """An attempt locks its counts, forgotten ones too, while the cleanup deletes forgotten ones.

    Waiting for a held row could deadlock on PostgreSQL (the cleanup holding another row the
    attempt wants next), so the cleanup skips held rows there; on SQLite writers take turns.
    """
    policy = Backoff("b", free=5, base_seconds=1, max_seconds=1, forget_seconds=60)
    async with database.write_sessions() as session, session.begin():
        for key in ("held", "other"):
            await backoff.hold(session, backoff=policy, key=key, now=clock.now)
            await backoff.store(session, backoff=policy, key=key, failures=Failures(3, clock.now))
    clock.advance(60)  # both forgotten
    async with database.write_sessions() as session, session.begin():
        held = await backoff.hold(session, backoff=policy, key="held", now=clock.now)
        assert held == Failures(0, 0)
        cleanup = asyncio.create_task(guard.cleanup(database))
        if backend == "postgresql":
            assert await asyncio.wait_for(cleanup, 30) == 1  # "other" only
        else:
            for _ in range(20):
                await asyncio.sleep(0)
            assert not cleanup.done()  # behind this transaction, on the write gate
        renewed = Failures(1, clock.now)
        await backoff.store(session, backoff=policy, key="held", failures=renewed)
    if backend == "sqlite":
        assert await cleanup == 1
    assert [(key, hits) for key, _, hits, _ in await rows(database)] == [("held", 1)]
