"""Keyword conditions for the patient list, with the access path chosen per query.

Each term is one index range on ``search_tokens``. Two ways to apply it:
- *driving*: ``users.id IN (range)`` materializes the matching ids; cheap when the term is rare;
- *probing*: ``EXISTS (token of this user in range)`` checks one user with one seek on
  ``(user_id, token)``; cheap when walking users in the list's order and matches are dense.
The rarest term drives when it is rare enough; every other term probes. A common term alone is
probed, so the first page is found after a few rows of the sort index instead of after
materializing and sorting hundreds of thousands of ids. When a term drives, the list sorts the
(few) candidates instead of walking the sort index (see ``users.listing._sorted``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.search.models import SearchToken
from carebook.search.text import Term, dob_token, prefix_upper_bound
from carebook.users.models import User

# A term whose token range holds fewer rows than this drives the query.
DRIVING_LIMIT = 20_000


def _token_match(term: Term) -> ColumnElement[bool]:
    match = and_(
        SearchToken.token >= term.prefix, SearchToken.token < prefix_upper_bound(term.prefix)
    )
    if term.dob is not None:
        match = or_(match, SearchToken.token == dob_token(term.dob))
    return match


def _with_id(term: Term, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return or_(condition, User.id == term.user_id) if term.user_id is not None else condition


def driving(organization_id: int, term: Term) -> ColumnElement[bool]:
    """The term as ``users.id IN (ids of its token range)``."""
    ids = select(SearchToken.user_id).where(
        SearchToken.organization_id == organization_id, _token_match(term)
    )
    return _with_id(term, User.id.in_(ids))


def probing(term: Term) -> ColumnElement[bool]:
    """The term as a per-user ``EXISTS`` on the (user_id, token) index."""
    found = exists().where(SearchToken.user_id == User.id, _token_match(term))
    return _with_id(term, found)


async def estimate(session: AsyncSession, organization_id: int, term: Term) -> int:
    """Rows in the term's token range, counted up to DRIVING_LIMIT (a cheap, capped scan)."""
    capped = (
        select(SearchToken.user_id)
        .where(SearchToken.organization_id == organization_id, _token_match(term))
        .limit(DRIVING_LIMIT)
        .subquery()
    )
    return int((await session.execute(select(func.count()).select_from(capped))).scalar_one())


@dataclass(frozen=True)
class KeywordPlan:
    """The conditions of the terms, whether one of them drives the query, and, when none does,
    the conditions to fall back on with the rarest term driving anyway."""

    conditions: list[ColumnElement[bool]]
    driving: bool = False
    fallback: list[ColumnElement[bool]] | None = None


async def keyword_conditions(
    session: AsyncSession, organization_id: int, terms: list[Term]
) -> KeywordPlan:
    """One condition per term (all must hold), with the rarest term driving when rare enough."""
    if not terms:
        return KeywordPlan([])
    sizes = [await estimate(session, organization_id, term) for term in terms]
    rarest = min(range(len(terms)), key=sizes.__getitem__)
    rarest_drives = [
        driving(organization_id, term) if index == rarest else probing(term)
        for index, term in enumerate(terms)
    ]
    if sizes[rarest] < DRIVING_LIMIT:
        return KeywordPlan(rarest_drives, driving=True)
    return KeywordPlan([probing(term) for term in terms], fallback=rarest_drives)
