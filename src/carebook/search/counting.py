"""How many patients the list holds (Healthie's ``usersCount``), and the capped count that
refuses a whole list over its cap.

Without keywords and filters (``active_status`` aside) the trigger-maintained counters answer
(``counters``); with one plain term, an index-only count of its token range; else a count of
the planned WHERE clause, the rarest term driving.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.search.arguments import ListArgs, active, only_active_status
from carebook.search.counters import UserCount
from carebook.search.planner import plan
from carebook.search.state import SearchState
from carebook.search.terms import count_matches, plain
from carebook.search.text import parse_keywords
from carebook.users.models import User
from carebook.users.scoping import visible_patients


async def count_patients(
    session: AsyncSession, state: SearchState, actor: Actor, args: ListArgs
) -> int:
    """How many patients the same arguments list, without pagination."""
    if (counted := await _index_only_count(session, actor, args)) is not None:
        return counted
    planned = await plan(session, state, actor, args)
    if planned is None:
        return 0
    query = visible_patients(actor).where(*planned.counting)
    counted_query = query.with_only_columns(func.count(User.id))
    return int((await session.execute(counted_query)).scalar_one())


async def count_up_to(
    session: AsyncSession, state: SearchState, actor: Actor, args: ListArgs, most: int
) -> int:
    """How many patients the arguments list (without pagination), counting no further than
    ``most``: ids only, so a whole list over its cap is refused without reading its rows."""
    planned = await plan(session, state, actor, args)
    if planned is None:
        return 0
    ids = visible_patients(actor).where(*planned.counting).with_only_columns(User.id).limit(most)
    counted = select(func.count()).select_from(ids.subquery())
    return int((await session.execute(counted)).scalar_one())


async def _index_only_count(session: AsyncSession, actor: Actor, args: ListArgs) -> int | None:
    """The count from the counters (no keywords) or from one term's index range, else None."""
    if actor.is_patient or not only_active_status(args):
        return None
    terms = parse_keywords(args.keywords)
    if not terms:
        if not args.show_all_by_default:
            return 0
        return await _maintained_count(session, actor, active(args))
    if len(terms) == 1 and plain(terms[0]):
        return await count_matches(session, actor.organization_id, terms[0], active(args))
    return None


async def _maintained_count(session: AsyncSession, actor: Actor, active: bool | None) -> int:
    """The organization's patients from the trigger-maintained counters (``counters.py``)."""
    query = select(func.coalesce(func.sum(UserCount.total), 0)).where(
        UserCount.organization_id == actor.organization_id, UserCount.role == "patient"
    )
    if active is not None:
        query = query.where(UserCount.active.is_(active))
    return int((await session.execute(query)).scalar_one())
