"""Counting attempts against several limits at once, each in its own short transaction.

The counters are written in their own transaction, never in the request's: a failed sign-in
rolls its own transaction back, and its attempt must still count.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from carebook.db.engine import Database
from carebook.ratelimit import service
from carebook.ratelimit.service import Limit, Verdict

logger = logging.getLogger("carebook.ratelimit")

# Expired windows are deleted by about one attempt in this many: no scheduler needed, and the
# table stays as small as the number of keys active in one window.
CLEANUP_ONE_IN = 50


@dataclass(frozen=True)
class Check:
    """A limit applied to one subject (an email, a client address)."""

    limit: Limit
    subject: str

    def key(self, secret: str) -> str:
        """The stored, hashed key of this check."""
        return service.key_digest(secret, self.limit, self.subject)


async def attempt(
    database: Database, *, secret: str, checks: Sequence[Check], now: int | None = None
) -> Verdict | None:
    """Count one attempt against every enabled check; the longest refusal, or None if allowed."""
    enabled = [c for c in checks if c.limit.enabled]
    if not enabled:
        return None
    at = service.now_seconds() if now is None else now
    # Rows are locked in key order, so concurrent attempts sharing keys cannot deadlock.
    keyed = sorted(((c.key(secret), c.limit) for c in enabled), key=lambda pair: pair[0])
    async with database.write_sessions() as session, session.begin():
        verdicts = [await service.hit(session, limit=lim, key=key, now=at) for key, lim in keyed]
    if secrets.randbelow(CLEANUP_ONE_IN) == 0:
        await cleanup(database, now=at)
    refused = [v for v in verdicts if not v.allowed]
    return max(refused, key=lambda v: v.retry_after) if refused else None


async def cleanup(database: Database, *, now: int | None = None) -> int:
    """Delete ended windows; a failure is logged and ignored (the next cleanup retries)."""
    at = service.now_seconds() if now is None else now
    try:
        async with database.write_sessions() as session, session.begin():
            skip_locked = database.engine.dialect.name == "postgresql"
            return await service.delete_expired(session, now=at, skip_locked=skip_locked)
    except SQLAlchemyError as error:  # a busy database must not fail the sign-in itself
        logger.warning("rate-limit cleanup skipped: %s", type(error).__name__)
        return 0
