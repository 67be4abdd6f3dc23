"""Counts of failures with exponential backoff, kept in ``rate_limit_counters``.

A backoff is not a window: it is one row per key, at ``window_index`` :data:`BACKOFF_ROW`
(fixed windows use the current epoch divided by their length, never negative), whose ``hits`` is
the number of failures and whose ``expires_at`` is when they are forgotten: ``forget_seconds``
after the last one. The time of the last failure is therefore ``expires_at - forget_seconds``,
and the expired-window cleanup deletes forgotten counts too. No migration was needed.

Every function here runs inside the caller's write transaction. :func:`hold` locks the row (an
upsert that always updates it: PostgreSQL locks a row on ``ON CONFLICT DO UPDATE``; SQLite's
write transactions run one at a time), so the check and the count that follows it are atomic:
concurrent attempts cannot all read the same count and all pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

BACKOFF_ROW = -1

# Wider exponents change nothing once the wait is capped; this keeps 2 ** n small.
_MAX_DOUBLINGS = 40

_HOLD = text(
    "INSERT INTO rate_limit_counters (key_digest, window_index, hits, expires_at) "
    "VALUES (:key, :row, 0, 0) "
    "ON CONFLICT (key_digest, window_index) "
    "DO UPDATE SET hits = rate_limit_counters.hits "
    "RETURNING hits, expires_at"
)
_SET = text(
    "UPDATE rate_limit_counters SET hits = :hits, expires_at = :expires "
    "WHERE key_digest = :key AND window_index = :row"
)
_DELETE = text("DELETE FROM rate_limit_counters WHERE key_digest = :key AND window_index = :row")


@dataclass(frozen=True)
class Backoff:
    """``free`` failures wait nothing; each one after waits twice as long, up to a maximum.

    After ``n >= free`` failures the next attempt waits ``base_seconds * 2 ** (n - free)``
    seconds (at most ``max_seconds``) after the last failure. Failures are forgotten
    ``forget_seconds`` after the last one. A ``free`` of 0 or less turns the backoff off.
    """

    name: str
    free: int
    base_seconds: int
    max_seconds: int
    forget_seconds: int

    @property
    def enabled(self) -> bool:
        """False when turned off by configuration."""
        return self.free > 0 and self.forget_seconds > 0

    def wait_after(self, failures: int) -> int:
        """Seconds to wait after the last of ``failures`` failures."""
        if failures < self.free:
            return 0
        doublings = min(failures - self.free, _MAX_DOUBLINGS)
        wait: int = self.base_seconds * 2**doublings
        return max(0, min(self.max_seconds, wait))


@dataclass(frozen=True)
class Failures:
    """A key's failures not yet forgotten, and when the last one happened."""

    count: int
    last: int


async def hold(session: AsyncSession, *, backoff: Backoff, key: str, now: int) -> Failures:
    """Lock ``key``'s row until the transaction ends; its failures as of ``now``."""
    row = (await session.execute(_HOLD, {"key": key, "row": BACKOFF_ROW})).one()
    hits, expires = int(row[0]), int(row[1])
    if expires <= now:  # forgotten, or the row was created just now
        return Failures(count=0, last=0)
    return Failures(count=hits, last=expires - backoff.forget_seconds)


async def store(session: AsyncSession, *, backoff: Backoff, key: str, failures: Failures) -> None:
    """Store the failures of a held row; none deletes it."""
    if failures.count <= 0:
        await session.execute(_DELETE, {"key": key, "row": BACKOFF_ROW})
        return
    expires = failures.last + backoff.forget_seconds
    await session.execute(
        _SET, {"key": key, "row": BACKOFF_ROW, "hits": failures.count, "expires": expires}
    )
