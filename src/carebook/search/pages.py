"""One page of the patient list (Healthie's ``users``): the access path chosen per request.

In order: a keyword page in last-name order from the token index (``keyword_pages``); common
keywords looked for near the top of the sort order; a deep page in last-name order from the
block counters (``deep_pages``); else the sort index, with the offset skipped on ids alone from
``DEFERRED_OFFSET`` on. Rows start from the actor's visibility scope (``users/scoping.py``).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.db.rows import entities
from carebook.search.arguments import LAST_NAME_SORTS, ListArgs, active, only_active_status
from carebook.search.deep_pages import COUNTED_OFFSET, page_ids_statement, page_parameters
from carebook.search.keyword_pages import page_in_token_order
from carebook.search.ordering import sorted_by
from carebook.search.planner import Planned, plan
from carebook.search.rows import LIMIT, OFFSET, patient_rows, plain_page
from carebook.search.state import SearchState
from carebook.users.models import User
from carebook.users.scoping import sees_every_patient, visible_patients

# How far down the sort order a page of common keywords is looked for before falling back.
WALK_BUDGET = 2000
# From this offset on, a page's ids are found on the sort index alone before rows are read.
DEFERRED_OFFSET = 100
# The sort whose SQL holds the current time: its statements are not kept.
NOW_DEPENDENT_SORT = "next_appt_date"


async def list_patients(
    session: AsyncSession, state: SearchState, actor: Actor, args: ListArgs
) -> list[User]:
    """One page of the actor's patients (or all of them when ``limit`` is None)."""
    planned = await plan(session, state, actor, args)
    if planned is None:
        return []
    if args.limit is not None and args.sort in LAST_NAME_SORTS:
        found = await page_in_token_order(session, state, actor, planned, args, args.limit)
        if found is not None:
            return found
    conditions, driving = planned.conditions, planned.driving
    if planned.fallback is not None and args.limit is not None:
        # Only common keywords: their matches are usually dense near the top of the sort order,
        # so look there first; when they are not (a term that follows the sort key, such as a
        # common last name sorted by last name), sort the rarest term's matches instead.
        page = await _page_near_the_top(session, actor, conditions, args, args.limit)
        if page is not None:
            return page
        conditions, driving = planned.fallback, True
    if args.limit is not None and _counted_offset(actor, args, planned):
        return await _counted_page(session, state, actor, args, args.limit)
    if args.limit is not None and args.offset >= DEFERRED_OFFSET:
        # A deep page: skip the offset on the sort index alone (PostgreSQL would otherwise read
        # every skipped row from the table), then read the page's rows and sort those.
        query = visible_patients(actor).where(*conditions)
        ids = sorted_by(query.with_only_columns(User.id), args.sort, driving)
        ids = ids.offset(args.offset).limit(args.limit)
        query = sorted_by(patient_rows(actor, args).where(User.id.in_(ids)), args.sort, True)
        return await entities(session, User, query)
    limit = args.limit if args.limit is not None else args.whole_list_rows
    if not conditions and not args.sort.startswith(NOW_DEPENDENT_SORT) and limit is not None:
        plain = plain_page(state, actor, args)
        return await entities(session, User, plain, {OFFSET: args.offset, LIMIT: limit})
    query = patient_rows(actor, args).where(*conditions)
    query = sorted_by(query, args.sort, driving).offset(args.offset).limit(limit)
    return await entities(session, User, query)


def _counted_offset(actor: Actor, args: ListArgs, planned: Planned) -> bool:
    """True when the page can be found from the block counters (``deep_pages.py``).

    They count every patient of the organization by block of last names and status, so: a
    caller who sees all of them, no keyword and no filter but ``active_status``, sorted by last
    name.
    """
    return (
        args.offset >= COUNTED_OFFSET
        and args.sort in LAST_NAME_SORTS
        and not planned.keywords.terms
        and only_active_status(args)
        and sees_every_patient(actor)
    )


async def _counted_page(
    session: AsyncSession, state: SearchState, actor: Actor, args: ListArgs, limit: int
) -> list[User]:
    """A deep page in last-name order, found from the block counters (``deep_pages.py``).

    Its rows' statement is kept per shape, caller, sort and columns (the page's place is bound):
    building it and its cache key was a fifth of such a request's CPU."""
    shape = (active(args), args.sort == "last_name_desc")

    def build() -> Select[User]:
        in_page = state.deep_page_statements.built(shape, lambda: page_ids_statement(*shape))
        return sorted_by(patient_rows(actor, args).where(User.id.in_(in_page)), args.sort, True)

    key = ("counted", shape, actor, args.sort, args.columns)
    rows = state.rows_statements.built(key, build)
    values = page_parameters(actor, args.offset, limit)
    return await entities(session, User, rows, values)


async def _page_near_the_top(
    session: AsyncSession,
    actor: Actor,
    conditions: list[ColumnElement[bool]],
    args: ListArgs,
    limit: int,
) -> list[User] | None:
    """The page if it lies within the first offset + WALK_BUDGET patients in sort order.

    Exact whenever a full page is found: walking in sort order, the first matches of the window
    are the first matches of the whole list. A short page proves nothing, hence None.
    """
    window = sorted_by(visible_patients(actor).with_only_columns(User.id), args.sort).limit(
        args.offset + WALK_BUDGET
    )
    query = patient_rows(actor, args).where(User.id.in_(window), *conditions)
    query = sorted_by(query, args.sort).offset(args.offset).limit(limit)
    rows = await entities(session, User, query)
    return rows if len(rows) == limit else None
