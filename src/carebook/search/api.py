"""The patient list's only way in: :func:`page` and :func:`count`.

The GraphQL resolvers of ``users`` and ``usersCount`` (and the benchmark) call these two with
the read session, the caller, the parsed :class:`ListArgs` and the application's
:class:`SearchState`; how a page or a count is found (planner, token index, counters, deep
pages) stays inside ``carebook.search``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.search.arguments import ListArgs
from carebook.search.counting import count_patients, count_up_to
from carebook.search.pages import list_patients
from carebook.search.state import SearchState
from carebook.users.models import User


async def page(
    session: AsyncSession, actor: Actor, args: ListArgs, state: SearchState
) -> list[User]:
    """One page of the actor's patients (or the whole list when ``args.limit`` is None)."""
    return await list_patients(session, state, actor, args)


async def count(
    session: AsyncSession,
    actor: Actor,
    args: ListArgs,
    state: SearchState,
    *,
    most: int | None = None,
) -> int:
    """How many patients ``args`` list, without pagination.

    With ``most``: counted no further than that, on ids only (to refuse a whole list over its
    cap without reading its rows); the result is then ``min(count, most)``.
    """
    if most is not None:
        return await count_up_to(session, state, actor, args, most)
    return await count_patients(session, state, actor, args)
