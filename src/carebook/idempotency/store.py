"""The key records in the database: look-up, claim inside a write, the answer, expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.idempotency.keys import Claim
from carebook.idempotency.models import IdempotencyKey

IN_USE = "IDEMPOTENCY_KEY_IN_USE"
REUSED = "IDEMPOTENCY_KEY_REUSED"
# The HTTP status and the message of each refusal: the web middleware answers with them, and a
# write refused mid-request raises the same message as a GraphQL error (graphql.common).
REFUSALS = {
    IN_USE: (
        409,
        "A request with this Idempotency-Key has not finished, or its server stopped before "
        "storing its answer; nothing was done now. Try again later with the same key.",
    ),
    REUSED: (
        422,
        "This Idempotency-Key was already used for a different request; nothing was done. "
        "Use a new key for a new request.",
    ),
}
PURGE_BATCH = 1000


class KeyTaken(Exception):
    """The key is already recorded; ``claim.refused`` says why the request may not run."""


def refusal_message(code: str) -> str:
    """The refusal's text, for the GraphQL error a write raises before the middleware replaces
    it with its HTTP answer (carebook.web.idempotency)."""
    return REFUSALS[code][1]


async def find(session: AsyncSession, claim: Claim, now: datetime) -> IdempotencyKey | None:
    """The live (unexpired) record of the claim's key, if any."""
    query = select(IdempotencyKey).where(
        IdempotencyKey.scope == claim.scope,
        IdempotencyKey.key_digest == claim.key_digest,
        IdempotencyKey.expires_at > now,
    )
    return (await session.execute(query)).scalar_one_or_none()


def refusal_of(claim: Claim, record: IdempotencyKey) -> str:
    """Why a request may not run under a key that is already recorded."""
    return IN_USE if record.request_digest == claim.request_digest else REUSED


async def claim_key(session: AsyncSession, claim: Claim, ttl: timedelta) -> None:
    """Record the key in the caller's write transaction, or raise :class:`KeyTaken`.

    Runs first in the transaction: on PostgreSQL a concurrent duplicate then waits on the
    unique index for the first one to commit and fails without doing any of its work.
    """
    now = utcnow()
    # An expired record of the same key would block the insert; it means nothing any more.
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.scope == claim.scope,
            IdempotencyKey.key_digest == claim.key_digest,
            IdempotencyKey.expires_at <= now,
        )
    )
    existing = await find(session, claim, now)
    if existing is not None:
        claim.refused = refusal_of(claim, existing)
        raise KeyTaken
    session.add(
        IdempotencyKey(
            scope=claim.scope,
            key_digest=claim.key_digest,
            request_digest=claim.request_digest,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    try:
        await session.flush()
    except IntegrityError:
        # A duplicate committed while this one waited (PostgreSQL); its digest is unreadable
        # in this aborted transaction, and "in use" is the answer a retry needs anyway.
        claim.refused = IN_USE
        raise KeyTaken from None


async def store_answer(database: Database, claim: Claim, status: int, body: bytes) -> None:
    """Keep the answer for replays (a short transaction of its own, after the mutation's)."""
    sealed = claim.seal(body)
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.scope == claim.scope,
                IdempotencyKey.key_digest == claim.key_digest,
            )
            .values(response_status=status, response_body=sealed)
        )


async def purge_expired(database: Database, now: datetime | None = None) -> int:
    """Delete expired records in small batches (short write transactions); returns the count."""
    moment = now or utcnow()
    total = 0
    while True:
        async with database.write_sessions() as session, session.begin():
            ids = (
                (
                    await session.execute(
                        select(IdempotencyKey.id)
                        .where(IdempotencyKey.expires_at <= moment)
                        .limit(PURGE_BATCH)
                    )
                )
                .scalars()
                .all()
            )
            if ids:
                await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
        total += len(ids)
        if len(ids) < PURGE_BATCH:
            return total
