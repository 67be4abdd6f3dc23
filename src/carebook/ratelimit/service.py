"""Fixed-window counters: count a hit, clear a key, delete expired windows.

A fixed window is one row per key and window, incremented by a single upsert, so every process
and server sharing the database agrees on the count without locks held across statements. Its
known cost: a client can spend a whole limit at the end of one window and again at the start of
the next (at most twice the limit in one window's time).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.ratelimit.models import RateLimitCounter

# The same statement runs on SQLite (3.35+) and PostgreSQL: no dialect-specific code.
_HIT = text(
    "INSERT INTO rate_limit_counters (key_digest, window_index, hits, expires_at) "
    "VALUES (:key, :window, 1, :expires) "
    "ON CONFLICT (key_digest, window_index) "
    "DO UPDATE SET hits = rate_limit_counters.hits + 1 "
    "RETURNING hits"
)

_DELETE_EXPIRED_UNLOCKED = text(
    "DELETE FROM rate_limit_counters WHERE (key_digest, window_index) IN ("
    "SELECT key_digest, window_index FROM rate_limit_counters WHERE expires_at <= :now "
    "FOR UPDATE SKIP LOCKED)"
)


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` hits per ``window_seconds``; a limit of 0 or less is off."""

    name: str
    limit: int
    window_seconds: int

    @property
    def enabled(self) -> bool:
        """False when the limit is turned off by configuration."""
        return self.limit > 0 and self.window_seconds > 0


@dataclass(frozen=True)
class Verdict:
    """Whether a hit was within its limit, and how long until its window ends."""

    allowed: bool
    retry_after: int


def key_digest(secret: str, limit: Limit, subject: str) -> str:
    """HMAC-SHA256 of the limit's name and its subject.

    Keyed with the server's secret: a plain hash of an email could be reversed by hashing a list
    of likely emails.
    """
    return digest(secret, limit.name, subject)


def digest(secret: str, name: str, subject: str) -> str:
    """HMAC-SHA256 of a counter's name and its subject (see :func:`key_digest`)."""
    message = f"{name}\x00{subject}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def now_seconds() -> int:
    """The current time in whole epoch seconds (a function, so tests can move the clock)."""
    return int(time.time())


async def hit(session: AsyncSession, *, limit: Limit, key: str, now: int) -> Verdict:
    """Count one hit of ``key`` in the current window; allowed while within the limit."""
    window = now // limit.window_seconds
    expires = (window + 1) * limit.window_seconds
    result = await session.execute(_HIT, {"key": key, "window": window, "expires": expires})
    hits = int(result.scalar_one())
    return Verdict(allowed=hits <= limit.limit, retry_after=max(1, expires - now))


async def delete_expired(session: AsyncSession, *, now: int, skip_locked: bool = False) -> int:
    """Delete the rows of windows that have ended; returns how many.

    ``skip_locked`` (PostgreSQL) leaves the rows an attempt holds (carebook.ratelimit.backoff
    locks forgotten counts too): waiting for one while holding others it wants could deadlock.
    """
    if skip_locked:
        result = await session.execute(_DELETE_EXPIRED_UNLOCKED, {"now": now})
    else:
        statement = delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now)
        result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
