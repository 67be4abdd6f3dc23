"""Pieces every domain's GraphQL layer shares: FieldError, input conversion, transactions."""

import asyncio
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.auth.actor import Actor
from carebook.errors import FieldMessage, Invalid
from carebook.graphql.context import Context
from carebook.graphql.errors import UNAUTHENTICATED, CodedError
from carebook.graphql.inputs import given
from carebook.idempotency.store import KeyTaken, claim_key, refusal_message

T = TypeVar("T")
logger = logging.getLogger("carebook.graphql")
# unique_violation and foreign_key_violation (a race with another writer), serialization_failure
# and deadlock_detected: the transaction may simply be run again.
RETRYABLE_SQLSTATES = frozenset({"23505", "23503", "40001", "40P01"})
# SQLite's driver has no SQLSTATE; its messages say which constraint failed.
_SQLITE_RACES = ("UNIQUE constraint failed", "FOREIGN KEY constraint failed")
CONFLICT = "This change conflicts with another one saved at the same time; please try again"


@strawberry.type(description="A problem with the input of a mutation; nothing was changed.")
class FieldError:
    """Healthie's FieldError."""

    field: str | None = strawberry.field(
        description="The input field that caused the problem, when one applies."
    )
    message: str = strawberry.field(description="What is wrong, for a person to read.")

    @classmethod
    def from_messages(cls, messages: list[FieldMessage]) -> "list[FieldError | None]":
        """Service messages as GraphQL values."""
        return [cls(field=m.field, message=m.message) for m in messages]


def provided(data: Any) -> dict[str, Any]:
    """The fields of a Strawberry input that the client set to a non-null value, by name.

    For the few callers that still take a mapping (sign-in, the rate limits); services take a
    typed input built by :func:`carebook.graphql.inputs.typed`, which applies the same rule.
    """
    if data is None:
        return {}
    return {
        f.name: value for f in dataclasses.fields(data) if given(value := getattr(data, f.name))
    }


def context_of(info: Info[Context, None]) -> Context:
    """The typed request context."""
    return info.context


def require_actor(info: Info[Context, None]) -> Actor:
    """The caller; permission classes have already rejected anonymous calls where needed."""
    actor = info.context.actor
    if actor is None:
        raise CodedError("You must be signed in to do this", UNAUTHENTICATED)
    return actor


@dataclass
class Outcome(Generic[T]):
    """A mutation's result: a value, or the messages explaining why nothing changed."""

    value: T | None = None
    # None when there is nothing to say: Healthie answers ``messages: null`` on success, not [].
    messages: list[FieldError | None] | None = None

    def __post_init__(self) -> None:
        if not self.messages:
            self.messages = None


async def write(context: Context, work: Callable[[AsyncSession], Awaitable[T]]) -> Outcome[T]:
    """Run ``work`` in one write transaction: commit on success, roll back on any message.

    A transaction that loses a race is run again from the start in a fresh transaction, up to
    ``settings.write_attempts`` times with a short jittered backoff, before the caller gets the
    CONFLICT message: a unique value another request took first (an email, a record identifier,
    a drawn invite code), or a PostgreSQL serialization failure or deadlock. On the next try the
    service's own checks see the winner's row and answer with a precise message, or draw a new
    value. ``work`` and the ``before_commit`` hooks must therefore only act through the session
    (anything else they do happens once per try).

    The read session is closed first so that whatever the mutation's payload reads afterwards
    (through DataLoaders) sees the committed state.
    """
    await context.end_read_transaction()
    attempts = max(1, context.settings.write_attempts)
    for attempt in range(1, attempts + 1):
        try:
            return await _attempt(context, work)
        except DBAPIError as error:  # IntegrityError included
            retry = _lost_race(error)
            if not retry and not isinstance(error, IntegrityError):
                raise
            if not retry or attempt == attempts:
                logger.warning("a write gave up after %d tries (%s)", attempt, _code(error))
                return Outcome(messages=[FieldError(field=None, message=CONFLICT)])
            await asyncio.sleep(_backoff(context.settings.write_retry_base_seconds, attempt))
    raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises


async def _attempt(context: Context, work: Callable[[AsyncSession], Awaitable[T]]) -> Outcome[T]:
    """One try of a write: the Idempotency-Key record first, then the work, then the hooks."""
    claim = context.idempotency
    async with context.database.write_sessions() as session:
        try:
            async with session.begin():
                if claim is not None and not claim.held:
                    await claim_key(
                        session, claim, timedelta(hours=context.settings.idempotency_ttl_hours)
                    )
                value = await work(session)
                for hook in context.before_commit:
                    await hook(session)
        except Invalid as error:
            return Outcome(messages=FieldError.from_messages(error.messages))
        except KeyTaken:
            assert claim is not None and claim.refused is not None
            raise CodedError(refusal_message(claim.refused), claim.refused) from None
    if claim is not None:
        # Committed with the key record: later writes of the same request need no new one.
        claim.held = True
    return Outcome(value=value)


def _code(error: DBAPIError) -> str:
    """The SQLSTATE of a database error (PostgreSQL), or its class name: never its values."""
    return str(getattr(error.orig, "sqlstate", None) or type(error.orig).__name__)


def _lost_race(error: DBAPIError) -> bool:
    """True when another try can succeed: a unique or foreign-key race, 40001 or 40P01.

    Other integrity errors (a NOT NULL or CHECK violation) would fail the same way again.
    """
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return str(sqlstate) in RETRYABLE_SQLSTATES
    return isinstance(error, IntegrityError) and str(error.orig).startswith(_SQLITE_RACES)


def _backoff(base: float, attempt: int) -> float:
    """Full jitter: concurrent losers spread out instead of colliding again in step."""
    return random.uniform(0, base * 2 ** (attempt - 1))  # noqa: S311 - not a secret
