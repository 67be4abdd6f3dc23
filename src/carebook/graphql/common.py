"""Pieces every domain's GraphQL layer shares: FieldError, input conversion, transactions."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.auth.actor import Actor
from carebook.errors import FieldMessage, Invalid
from carebook.graphql.context import Context
from carebook.graphql.errors import UNAUTHENTICATED, CodedError

T = TypeVar("T")
CONFLICT = "This change conflicts with another one saved at the same time; please try again"


@strawberry.type(description="A problem with the input of a mutation; nothing was changed.")
class FieldError:
    """Healthie's FieldError."""

    field: str | None = strawberry.field(
        description="The input field that caused the problem, when one applies."
    )
    message: str = strawberry.field(description="What is wrong, for a person to read.")

    @classmethod
    def from_messages(cls, messages: list[FieldMessage]) -> list[FieldError | None]:
        """Service messages as GraphQL values."""
        return [cls(field=m.field, message=m.message) for m in messages]


def provided(data: Any) -> dict[str, Any]:
    """The fields of a Strawberry input that the client set to a non-null value.

    Healthie treats an explicit null like an absent field, and so does Carebook.
    """
    if data is None:
        return {}
    return {
        f.name: value
        for f in dataclasses.fields(data)
        if (value := getattr(data, f.name)) is not None and value is not strawberry.UNSET
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
    messages: list[FieldError | None] = dataclasses.field(default_factory=list)


async def write(context: Context, work: Callable[[AsyncSession], Awaitable[T]]) -> Outcome[T]:
    """Run ``work`` in one write transaction: commit on success, roll back on any message.

    The read session is closed first so that whatever the mutation's payload reads afterwards
    (through DataLoaders) sees the committed state.
    """
    await context.end_read_transaction()
    async with context.database.write_sessions() as session:
        try:
            async with session.begin():
                value = await work(session)
        except Invalid as error:
            return Outcome(messages=FieldError.from_messages(error.messages))
        except IntegrityError:
            # A uniqueness check passed but a concurrent transaction won the race.
            return Outcome(messages=[FieldError(field=None, message=CONFLICT)])
    return Outcome(value=value)
