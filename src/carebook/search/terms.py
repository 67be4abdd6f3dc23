"""Keyword terms as conditions on the token index, with the access path chosen per query.

Each term is one index range on ``search_tokens``. Two ways to apply it:
- *driving*: ``users.id IN (range)`` materializes the matching ids; cheap when the term is rare;
- *probing*: ``EXISTS (token of this user in range)`` checks one user with one seek on
  ``(user_id, token)``; cheap when walking users in the list's order and matches are dense.
The rarest term drives when it is rare enough; every other term probes. A common term alone is
probed, so the first page is found after a few rows of the sort index instead of after
materializing and sorting hundreds of thousands of ids. When a term drives, the list sorts the
(few) candidates instead of walking the sort index (see ``ordering.sorted_by``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.db.rows import core_rows
from carebook.search.models import SearchToken
from carebook.search.state import SearchState
from carebook.search.text import Term, dob_token, prefix_upper_bound
from carebook.users.models import User

# A term whose token range holds fewer rows than this drives the query.
DRIVING_LIMIT = 20_000
# When every term is common, ranges are counted up to this to find the rarest one.
REFINED_LIMIT = 400_000


def _token_match(term: Term) -> ColumnElement[bool]:
    dob = dob_token(term.dob) if term.dob is not None else None
    return range_or_date(SearchToken.token, term.prefix, prefix_upper_bound(term.prefix), dob)


def range_or_date(token: Any, prefix: Any, upper: Any, dob: Any) -> ColumnElement[bool]:
    """A term's token condition: its prefix range, or its date's token when it is a date.

    The values are plain values or bound parameters (statements built once, ``last_name_order``).
    """
    match = and_(token >= prefix, token < upper)
    return match if dob is None else or_(match, token == dob)


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


# Range sizes are remembered (SearchState.sizes) for this long. Sizes only choose an access
# path, never decide a result, so a size a few seconds old is as good as a fresh one and repeated
# searches (a search box sends the same name again and again) skip counts.
SIZE_TTL_SECONDS = 30.0


async def estimate(
    session: AsyncSession,
    state: SearchState,
    organization_id: int,
    term: Term,
    cap: int = DRIVING_LIMIT,
    *,
    exact: bool = False,
) -> int:
    """Rows in the term's token range, counted up to ``cap`` (a cheap, capped index scan).

    ``exact``: the rows of the exact token only (the whole word), not of the range.
    """
    key = (organization_id, term, exact)
    known = state.sizes.get(key)
    if known is not None and known[2] > time.monotonic():
        size, counted_to, _ = known
        if size < counted_to or cap <= counted_to:  # exact, or capped beyond what is asked
            return min(size, cap)
    capped = (
        select(SearchToken.user_id)
        .where(
            SearchToken.organization_id == organization_id,
            SearchToken.token == term.prefix if exact else _token_match(term),
        )
        .limit(cap)
        .subquery()
    )
    size = int((await core_rows(session, select(func.count()).select_from(capped)))[0][0])
    state.sizes.put(key, (size, cap, time.monotonic() + SIZE_TTL_SECONDS))
    return size


async def refined_rarest(
    session: AsyncSession, state: SearchState, organization_id: int, terms: list[Term]
) -> tuple[Term, int]:
    """The rarest of common terms and its range size (capped at REFINED_LIMIT).

    Each range is counted only up to the smallest size found so far, so the total work is
    bounded by a few times the rarest range, not by the most common one.
    """
    best, best_size = terms[0], REFINED_LIMIT
    for term in terms:
        size = await estimate(session, state, organization_id, term, best_size)
        if size < best_size:
            best, best_size = term, size
    return best, best_size


def plain(term: Term) -> bool:
    """True when the term matches through its token range only (not a date, not an id)."""
    return term.dob is None and term.user_id is None


def _once_per_user(term: Term) -> ColumnElement[bool]:
    """Of a plain term's range, one row per matching user (see ``text.shared_prefixes``).

    An IN list, not ``shared < n``: each value is one seek on ix_search_tokens_org_shared_token,
    which then reads only those rows of the term's range.
    """
    return SearchToken.shared.in_(list(range(len(term.prefix))))


async def holders(session: AsyncSession, term: Term, user_ids: list[int]) -> set[int]:
    """Those of ``user_ids`` that the term matches: one seek per id on (user_id, token).

    A query of its own rather than an EXISTS per user row, which PostgreSQL may turn into a
    hash join over the term's whole range.
    """
    query = select(SearchToken.user_id).where(SearchToken.user_id.in_(user_ids), _token_match(term))
    found = {row[0] for row in await core_rows(session, query.distinct())}
    if term.user_id is not None and term.user_id in user_ids:
        found.add(term.user_id)
    return found


async def count_matches(
    session: AsyncSession, organization_id: int, term: Term, active: bool | None
) -> int:
    """How many patients one plain term matches: an index-only count of its range.

    One row per user qualifies, so a plain COUNT(*): no DISTINCT and its temporary table, which
    cost three quarters of the count.
    """
    query = select(func.count()).where(
        SearchToken.organization_id == organization_id,
        _token_match(term),
        _once_per_user(term),
        SearchToken.role == "patient",
    )
    if active is not None:
        query = query.where(SearchToken.active.is_(active))
    return int((await session.execute(query)).scalar_one())


@dataclass(frozen=True)
class KeywordPlan:
    """The terms, the rarest one and its range size, and the conditions they become.

    The conditions are built on first use (building SQL expressions costs more than some
    plans take to run): ``conditions`` has one per term, the rarest driving when its range is
    below DRIVING_LIMIT; when every range reached it (``common``), ``fallback`` has the rarest
    driving anyway. ``refined`` says that ``rarest_size`` was counted past DRIVING_LIMIT.
    """

    organization_id: int
    terms: list[Term] = field(default_factory=list)
    rarest_index: int = 0
    rarest_size: int = 0
    refined: bool = False

    @property
    def rarest(self) -> Term | None:
        return self.terms[self.rarest_index] if self.terms else None

    @property
    def driving(self) -> bool:
        return bool(self.terms) and self.rarest_size < DRIVING_LIMIT

    @property
    def common(self) -> bool:
        return bool(self.terms) and not self.driving

    @cached_property
    def conditions(self) -> list[ColumnElement[bool]]:
        if self.driving:
            return self._rarest_drives()
        return [probing(term) for term in self.terms]

    @cached_property
    def fallback(self) -> list[ColumnElement[bool]] | None:
        return self._rarest_drives() if self.common else None

    def _rarest_drives(self) -> list[ColumnElement[bool]]:
        return [
            driving(self.organization_id, term) if index == self.rarest_index else probing(term)
            for index, term in enumerate(self.terms)
        ]


async def keyword_conditions(
    session: AsyncSession, state: SearchState, organization_id: int, terms: list[Term]
) -> KeywordPlan:
    """The plan of the terms (all must hold), with the rarest term driving when rare enough."""
    if not terms:
        return KeywordPlan(organization_id)
    # One term: count it as far as a refined estimate would, rather than twice.
    cap = REFINED_LIMIT if len(terms) == 1 else DRIVING_LIMIT
    sizes = [await estimate(session, state, organization_id, term, cap) for term in terms]
    rarest = min(range(len(terms)), key=sizes.__getitem__)
    size = sizes[rarest]
    refined = len(terms) == 1 or size < DRIVING_LIMIT
    return KeywordPlan(organization_id, terms, rarest, size, refined)
