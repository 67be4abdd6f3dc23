"""How signIn attempts are throttled, without letting a stranger lock an owner out.

Three counts, in ``rate_limit_counters``, all keyed by HMACs:

- every attempt per client address, in fixed windows (a :class:`~carebook.ratelimit.service.Limit`);
- the failures of an email from every address (the account's count, a
  :class:`~carebook.ratelimit.backoff.Backoff`);
- the failures of that email from this address (the pair's count, same backoff settings).

An attempt is refused when its address is over its limit, or when its address has failed for
this email before (the pair's count is not zero) and its backoff has not run out:
``wait_after(account count)`` seconds since this address's own last failure for the email (the
pair's, not the account's, so no other address can move it). An address that has not failed for
the email is never held back by the account's count, so an owner signing in from their own
address passes whatever a stranger did elsewhere (OWASP's advice against lock-outs that anyone
can trigger), and an owner who mistyped waits at most the longest wait after their own last
mistake. A refused attempt checks no password and counts no failure.

An allowed attempt is counted as a failure of both the account and the pair before the password
is checked (so concurrent guesses cannot overtake the count), in one transaction that locks the
rows in key order (no deadlock between attempts sharing rows). A success then removes this
address's failures from the account's count and forgets the pair: mistakes of the owner do not
keep counting, a stranger's do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.db.engine import Database
from carebook.ratelimit import backoff, guard, service
from carebook.ratelimit.backoff import Backoff, Failures
from carebook.ratelimit.service import Limit, Verdict


@dataclass(frozen=True)
class SignInAttempt:
    """Who is trying: the email's case-folded key (None without one) and the client address."""

    email_key: str | None
    address: str


@dataclass(frozen=True)
class Keys:
    """The hashed counter keys of one attempt (None for a count that does not apply)."""

    address: str | None
    account: str | None
    pair: str | None


def keys_of(attempt: SignInAttempt, *, secret: str, address_limit: Limit, account: Backoff) -> Keys:
    """The keys of the enabled counts of ``attempt``."""
    address = None
    if address_limit.enabled:
        address = service.key_digest(secret, address_limit, attempt.address)
    if not (account.enabled and attempt.email_key):
        return Keys(address, None, None)
    return Keys(
        address,
        service.digest(secret, account.name, attempt.email_key),
        service.digest(secret, f"{account.name}_from", f"{attempt.email_key}\x00{attempt.address}"),
    )


async def claim(
    database: Database,
    *,
    secret: str,
    address_limit: Limit,
    account: Backoff,
    attempt: SignInAttempt,
    now: int | None = None,
) -> Verdict | None:
    """Count one attempt before its password is checked; the refusal, or None if allowed."""
    keys = keys_of(attempt, secret=secret, address_limit=address_limit, account=account)
    if keys == Keys(None, None, None):
        return None
    at = service.now_seconds() if now is None else now
    async with database.write_sessions() as session, session.begin():
        held = await _hold(session, keys, address_limit=address_limit, account=account, now=at)
        refused = _refusal(held, account=account, now=at)
        if refused is None and keys.account is not None and keys.pair is not None:
            await _count_failure(session, keys.account, held.account, account=account, now=at)
            await _count_failure(session, keys.pair, held.pair, account=account, now=at)
    if secrets.randbelow(guard.CLEANUP_ONE_IN) == 0:
        await guard.cleanup(database, now=at)
    return refused


async def succeeded(
    database: Database,
    *,
    secret: str,
    address_limit: Limit,
    account: Backoff,
    attempt: SignInAttempt,
    now: int | None = None,
) -> None:
    """The password was right: this address's failures stop counting against the account."""
    keys = keys_of(attempt, secret=secret, address_limit=address_limit, account=account)
    if keys.account is None or keys.pair is None:
        return
    at = service.now_seconds() if now is None else now
    async with database.write_sessions() as session, session.begin():
        own = Keys(None, keys.account, keys.pair)
        held = await _hold(session, own, address_limit=address_limit, account=account, now=at)
        remaining = Failures(held.account.count - held.pair.count, held.account.last)
        await backoff.store(session, backoff=account, key=keys.account, failures=remaining)
        await backoff.store(session, backoff=account, key=keys.pair, failures=Failures(0, 0))


@dataclass(frozen=True)
class _Held:
    """What the locked rows held when the attempt came."""

    address: Verdict | None
    account: Failures
    pair: Failures


async def _hold(
    session: AsyncSession, keys: Keys, *, address_limit: Limit, account: Backoff, now: int
) -> _Held:
    """Count the address's attempt and lock the backoff rows, in key order."""
    address: Verdict | None = None
    account_failures = pair_failures = Failures(0, 0)
    for key in sorted(k for k in (keys.address, keys.account, keys.pair) if k is not None):
        if key == keys.address:
            address = await service.hit(session, limit=address_limit, key=key, now=now)
        elif key == keys.account:
            account_failures = await backoff.hold(session, backoff=account, key=key, now=now)
        else:
            pair_failures = await backoff.hold(session, backoff=account, key=key, now=now)
    return _Held(address, account_failures, pair_failures)


def _refusal(held: _Held, *, account: Backoff, now: int) -> Verdict | None:
    """The longest wait any count imposes on this attempt, or None."""
    waits = []
    if held.address is not None and not held.address.allowed:
        waits.append(held.address.retry_after)
    if held.pair.count > 0:
        # Timed from this address's own last failure, never the account's: otherwise a stranger
        # failing as soon as each wait ends would push the owner's wait forward without end.
        due = held.pair.last + account.wait_after(held.account.count)
        # A concurrent attempt that read the clock a second later may have counted its failure
        # first: that failure is not in the future, and a wait of 0 never refuses.
        current = max(now, held.pair.last)
        if due > current:
            waits.append(due - current)
    return Verdict(allowed=False, retry_after=max(waits)) if waits else None


async def _count_failure(
    session: AsyncSession, key: str, held: Failures, *, account: Backoff, now: int
) -> None:
    failures = Failures(held.count + 1, now)
    await backoff.store(session, backoff=account, key=key, failures=failures)
