"""ID arguments, and the rows they name: one way for every resolver.

Two rules, as Healthie answers them. A root field that fetches one object by ``id`` answers null
for a blank, malformed, unknown or hidden id alike (:func:`visible_row`), so an id outside the
caller's view is indistinguishable from one that does not exist. An id that narrows a list
(``user_id``, ``provider_id``, ...) and is malformed is the caller's mistake: BAD_USER_INPUT
(:func:`id_argument`). Mutations name their rows through the services, which answer a missing
one with a ``NotFound`` message.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from carebook.auth.actor import Actor
from carebook.errors import Invalid
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.users.validation import parse_id

R = TypeVar("R")
# A domain read of one row the actor may see: ``get_visible_location(session, actor, id)``.
VisibleLoad = Callable[[AsyncSession, Actor, int], Awaitable[R | None]]


def id_argument(value: str | None, name: str) -> int | None:
    """An id that narrows a list (None when blank); a malformed one is BAD_USER_INPUT."""
    try:
        return parse_id(value, name)
    except Invalid:
        raise CodedError(f"{name} is not a valid id", BAD_USER_INPUT) from None


def id_or_none(value: str | None, name: str = "id") -> int | None:
    """An id that names one object; blank and malformed are None (the object answers null)."""
    try:
        return parse_id(value, name)
    except Invalid:
        return None


async def visible_row(
    info: Info[Context, None], value: str | None, load: VisibleLoad[R]
) -> R | None:
    """The row ``value`` names if the caller may see it, read by ``load`` in the request's read
    session; None for a blank, malformed, unknown or hidden id alike."""
    actor = require_actor(info)
    row_id = id_or_none(value)
    if row_id is None:
        return None
    return await info.context.read(lambda session: load(session, actor, row_id))
