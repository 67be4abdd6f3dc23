"""signIn's throttle when concurrent attempts read the clock in one order and count in another."""

from __future__ import annotations

from carebook.db.engine import Database
from carebook.ratelimit.backoff import Backoff
from carebook.ratelimit.service import Limit
from carebook.ratelimit.sign_in_throttle import SignInAttempt, claim

T = 1_800_000_000
ADDRESS_OFF = Limit("sign_in_address", 0, 0)
ATTEMPT = SignInAttempt("patient.a@example.com", "10.0.0.1")


def _backoff(free: int) -> Backoff:
    return Backoff(
        "sign_in_failures", free=free, base_seconds=4, max_seconds=60, forget_seconds=3600
    )


async def _claim(database: Database, backoff: Backoff, now: int) -> int | None:
    refused = await claim(
        database,
        secret="test-secret",
        address_limit=ADDRESS_OFF,
        account=backoff,
        attempt=ATTEMPT,
        now=now,
    )
    return None if refused is None else refused.retry_after


async def test_a_failure_counted_by_a_later_clock_read_does_not_hold_back_a_free_attempt(
    database: Database,
) -> None:
    # Two attempts of one address in flight: B read the clock at T+1 and counted first, A read
    # it at T. Within the free failures, neither waits.
    free = _backoff(free=10)
    assert await _claim(database, free, now=T + 1) is None
    assert await _claim(database, free, now=T) is None


async def test_past_the_free_failures_the_wait_runs_from_the_last_failure(
    database: Database,
) -> None:
    backoff = _backoff(free=1)
    assert await _claim(database, backoff, now=T + 1) is None
    # The wait after one failure (4 s) counts from that failure, whoever read the clock first.
    assert await _claim(database, backoff, now=T) == 4
    assert await _claim(database, backoff, now=T + 3) == 2
    assert await _claim(database, backoff, now=T + 5) is None
