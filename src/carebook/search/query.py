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

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from carebook.search.models import SearchToken
from carebook.search.text import Term, dob_token, prefix_upper_bound
from carebook.users.models import User

# A term whose token range holds fewer rows than this drives the query.
DRIVING_LIMIT = 20_000
# When every term is common, ranges are counted up to this to find the rarest one.
REFINED_LIMIT = 400_000
# Sampling pays when a range holds more than this many times the keys wanted.
SAMPLE_SIZE_FACTOR = 8


def _token_match(term: Term) -> ColumnElement[bool]:
    dob = dob_token(term.dob) if term.dob is not None else None
    return _range_or_date(SearchToken.token, term.prefix, prefix_upper_bound(term.prefix), dob)


def _range_or_date(token: Any, prefix: Any, upper: Any, dob: Any) -> ColumnElement[bool]:
    """A term's token condition: its prefix range, or its date's token when it is a date.

    The values are plain values or bound parameters (for statements built once, see _prepared).
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


# Range sizes counted recently, per (organization, term): (size, counted up to, expiry). Sizes
# only choose an access path, never decide a result, so a size a few seconds old is as good as a
# fresh one and repeated searches (a search box sends the same name again and again) skip counts.
_SIZES: OrderedDict[tuple[int, Term, bool], tuple[int, int, float]] = OrderedDict()
_SIZES_MAX = 4096
SIZE_TTL_SECONDS = 30.0


async def estimate(
    session: AsyncSession,
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
    known = _SIZES.get(key)
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
    size = int((await session.execute(select(func.count()).select_from(capped))).scalar_one())
    _SIZES[key] = (size, cap, time.monotonic() + SIZE_TTL_SECONDS)
    _SIZES.move_to_end(key)
    if len(_SIZES) > _SIZES_MAX:
        _SIZES.popitem(last=False)
    return size


async def refined_rarest(
    session: AsyncSession, organization_id: int, terms: list[Term]
) -> tuple[Term, int]:
    """The rarest of common terms and its range size (capped at REFINED_LIMIT).

    Each range is counted only up to the smallest size found so far, so the total work is
    bounded by a few times the rarest range, not by the most common one.
    """
    best, best_size = terms[0], REFINED_LIMIT
    for term in terms:
        size = await estimate(session, organization_id, term, best_size)
        if size < best_size:
            best, best_size = term, size
    return best, best_size


def plain(term: Term) -> bool:
    """True when the term matches through its token range only (not a date, not an id)."""
    return term.dob is None and term.user_id is None


# (last_name, user_id): a position in last-name order.
SortKey = tuple[str, int]


@dataclass(frozen=True)
class Ordered:
    """Where to read a term's matches in last-name order from."""

    organization_id: int
    term: Term
    descending: bool
    active: bool | None
    # The term's range size (as estimated), to decide whether sampling pays.
    size: int
    # Other terms every key must match, checked by the database as it reads the streams.
    others: tuple[Term, ...] = ()


def _once_per_user(term: Term) -> ColumnElement[bool]:
    """Of a plain term's range, one row per matching user (see ``text.shared_prefixes``).

    An IN list, not ``shared < n``: each value is one seek on ix_search_tokens_org_shared_token,
    which then reads only those rows of the term's range.
    """
    return SearchToken.shared.in_(list(range(len(term.prefix))))


def _streams(
    descending: bool,
    active: bool | None,
    after: bool,
    where: list[ColumnElement[bool]],
    split: int,
) -> list[Select[str, int]]:
    """The term's keys (one per patient) as disjoint streams, each readable in last-name order.

    The exact token (the whole word typed: most of a common name's matches) has its keys in
    last-name order within one ``active`` value on ``ix_search_tokens_org_token_sort``, so a page
    of them costs a page. Longer tokens are many distinct values whose keys must be sorted; with
    ``shared`` only patients without the exact token remain among them (the exact token, the
    smallest string with the prefix, starts every run of it), so no patient is in two streams.
    With ``split`` (the term's length, when short), the longer tokens are one stream per value
    of ``shared``: PostgreSQL estimates a prefix range at one row and, given ``shared IN (...)``,
    scanned the whole range on the other index (5.7-30 ms for "garcia"); with ``shared = k`` it
    seeks ix_search_tokens_org_shared_token (0.5-2.4 ms). Values are bound parameters.
    """
    token = SearchToken.token
    query = select(SearchToken.last_name, SearchToken.user_id).where(
        SearchToken.organization_id == bindparam("organization_id"),
        SearchToken.role == "patient",
        *where,
    )
    if after:
        query = query.where(_beyond("after", descending))
    longer = query.where(token > bindparam("prefix"), token < bindparam("upper"))
    if active is not None:
        longer = longer.where(SearchToken.active.is_(active))
    if split:
        longers = [longer.where(SearchToken.shared == k) for k in range(split)]
    else:
        longers = [longer.where(SearchToken.shared.in_(bindparam("shared", expanding=True)))]
    actives = (True, False) if active is None else (active,)
    exact = [query.where(token == bindparam("prefix"), SearchToken.active.is_(a)) for a in actives]
    return [*exact, *longers]


def _merged(streams: list[Select[str, int]], descending: bool) -> Select[str, int]:
    """The first ``limit`` keys of the streams, merged in SQL.

    Merged by the database, not in Python: last names compare in the column's collation.
    """
    limit = bindparam("limit", type_=Integer)
    parts = []
    for stream in streams:
        first = _in_order(stream, descending).limit(limit).subquery()
        parts.append(select(first.c.last_name, first.c.user_id))
    union = union_all(*parts).subquery()
    keys = select(union.c.last_name, union.c.user_id)
    return _in_order(keys, descending).limit(limit)


def _in_order(query: Select[str, int], descending: bool) -> Select[str, int]:
    last_name, user_id = query.selected_columns
    keys = (last_name.desc(), user_id.desc()) if descending else (last_name, user_id)
    return query.order_by(*keys)


def _position(name: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    position = tuple_(SearchToken.last_name, SearchToken.user_id)
    last_name = bindparam(f"{name}_last_name", type_=SearchToken.last_name.type)
    key = tuple_(last_name, bindparam(f"{name}_user_id", type_=Integer))
    return position, key


def _beyond(name: str, descending: bool) -> ColumnElement[bool]:
    position, key = _position(name)
    return position < key if descending else position > key


def _at_or_before(name: str, descending: bool) -> ColumnElement[bool]:
    position, key = _position(name)
    return position >= key if descending else position <= key


def _holds(index: int, dob: bool, user_id: bool) -> ColumnElement[bool]:
    """Other term number ``index`` matches the key's user: one seek on (user_id, token).

    ``dob`` and ``user_id`` say whether the term is also a date and a number (see Term).
    """
    other, name = aliased(SearchToken), f"other{index}"
    match = _range_or_date(
        other.token,
        bindparam(f"{name}_prefix"),
        bindparam(f"{name}_upper"),
        bindparam(f"{name}_dob") if dob else None,
    )
    # OFFSET 0 keeps the EXISTS a subplan (PostgreSQL does not turn a subquery with OFFSET into
    # a semi-join): each is then planned once as a plain index probe, instead of a join search
    # per stream. A keys query of 8 streams and 2 other terms spent 3.1 ms planning and 0.9 ms
    # running on the 1M database; as subplans the whole call took 1.9 ms instead of 4.2 ms.
    # The plan is the same either way (a seek on (user_id, token) per key read); SQLite: no change.
    probe = select(other.user_id).where(other.user_id == SearchToken.user_id, match)
    found = probe.offset(0).exists()
    if user_id:
        return or_(found, SearchToken.user_id == bindparam(f"{name}_id", type_=Integer))
    return found


def _other_params(others: tuple[Term, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for index, term in enumerate(others):
        name = f"other{index}"
        params[f"{name}_prefix"] = term.prefix
        params[f"{name}_upper"] = prefix_upper_bound(term.prefix)
        params[f"{name}_dob"] = dob_token(term.dob) if term.dob is not None else None
        params[f"{name}_id"] = term.user_id
    return params


# Kind of another term: (has a date, has an id); they shape its condition.
Kinds = tuple[tuple[bool, bool], ...]
# Shape of a keys query: (descending, active, after given, bounded, sampled, other terms,
# streams of the longer tokens split by ``shared``: the term's length, or 0).
Shape = tuple[bool, bool | None, bool, bool, bool, Kinds, int]
# Terms up to this length, with a range of at least SPLIT_FROM rows, read their longer tokens
# as one stream per value of ``shared``. A small range costs little to scan whole and its dozen
# streams cost more: a page of keys on the 1M PostgreSQL database (medians of 60 calls, 4
# rounds) took 1.5-2.0 ms split and 0.6-0.8 ms as one stream for "xochiquetzal" (196 rows)
# and "vukovichale" (66), but 0.9-1.8 ms split and 3.5-6.1 ms as one stream for "garcia"
# (48,217) and "smith" (43,182). SQLite: 0.14-0.31 ms either way.
MAX_SPLIT = 12
SPLIT_FROM = 5000


# The keys queries are built once per shape with bound parameters: building one (about a dozen
# SELECTs) cost more CPU than the database took to run it. The cache is bounded: shapes multiply
# with the kinds of other terms, which clients choose.
@lru_cache(maxsize=256)
def _prepared(shape: Shape) -> Select[str, int]:
    descending, active, after, bounded, sampled, kinds, split = shape
    where = [_at_or_before("bound", descending)] if bounded else []
    where += [_holds(index, *kind) for index, kind in enumerate(kinds)]
    if sampled:
        where.append(SearchToken.user_id % bindparam("modulus", type_=Integer) == 0)
    return _merged(_streams(descending, active, after, where, split), descending)


async def _keys(
    session: AsyncSession, ordered: Ordered, params: dict[str, Any], shape: Shape
) -> list[SortKey]:
    term = ordered.term
    params = {
        **params,
        **_other_params(ordered.others),
        "organization_id": ordered.organization_id,
        "prefix": term.prefix,
        "upper": prefix_upper_bound(term.prefix),
        "shared": list(range(len(term.prefix))),
    }
    rows = (await session.execute(_prepared(shape), params)).all()
    return [(row[0], row[1]) for row in rows]


# Bounds found by sampling, per (ordered range, position, batch): a hint, never an answer. A
# bounded query that still returns a full batch is exact whatever the bound, so a stale bound
# (rows changed since) costs one more query, never a wrong page.
_BOUNDS: OrderedDict[tuple[object, ...], SortKey] = OrderedDict()
_BOUNDS_MAX = 1024


async def in_last_name_order(
    session: AsyncSession, ordered: Ordered, after: SortKey | None, limit: int
) -> list[SortKey]:
    """The next ``limit`` (last_name, user_id) of the term's patients in the list's order.

    Index-only reads of the term's streams (see :func:`_streams`), merged: the database orders
    keys without reading user rows. In a large range, a bound (a key that about twice ``limit``
    keys reach) lets the longer tokens' stream sort only the keys before it: remembered from an
    earlier call, or found on a sample (ids in one residue class). When fewer than ``limit``
    keys reach the bound, the unbounded query runs.
    """
    params: dict[str, Any] = {"limit": limit}
    if after is not None:
        params.update(after_last_name=after[0], after_user_id=after[1])
    o = ordered

    def shape(bounded: bool = False, sampled: bool = False) -> Shape:
        kinds = tuple((t.dob is not None, t.user_id is not None) for t in o.others)
        length = len(o.term.prefix)
        split = length if length <= MAX_SPLIT and o.size >= SPLIT_FROM else 0
        return (o.descending, o.active, after is not None, bounded, sampled, kinds, split)

    modulus = int(o.size / (SAMPLE_SIZE_FACTOR * limit))
    # With other terms, the matches' density is unknown: a sample of the range says nothing.
    if modulus >= 2 and not o.others:
        hint = (o.organization_id, o.term, o.descending, o.active, after, limit)
        bound = _BOUNDS.get(hint)
        if bound is None:
            sample = {**params, "modulus": modulus, "limit": 2 * limit // modulus + 2}
            keys = await _keys(session, o, sample, shape(sampled=True))
            bound = keys[-1] if len(keys) == sample["limit"] else None
        if bound is not None:
            bounded = {**params, "bound_last_name": bound[0], "bound_user_id": bound[1]}
            keys = await _keys(session, o, bounded, shape(bounded=True))
            if len(keys) == limit:
                _remember(hint, bound)
                return keys
            _BOUNDS.pop(hint, None)
    return await _keys(session, o, params, shape())


def _remember(hint: tuple[object, ...], bound: SortKey) -> None:
    _BOUNDS[hint] = bound
    _BOUNDS.move_to_end(hint)
    if len(_BOUNDS) > _BOUNDS_MAX:
        _BOUNDS.popitem(last=False)


async def holders(session: AsyncSession, term: Term, user_ids: list[int]) -> set[int]:
    """Those of ``user_ids`` that the term matches: one seek per id on (user_id, token).

    A query of its own rather than an EXISTS per user row, which PostgreSQL may turn into a
    hash join over the term's whole range.
    """
    query = select(SearchToken.user_id).where(SearchToken.user_id.in_(user_ids), _token_match(term))
    found = set((await session.execute(query.distinct())).scalars())
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
    session: AsyncSession, organization_id: int, terms: list[Term]
) -> KeywordPlan:
    """The plan of the terms (all must hold), with the rarest term driving when rare enough."""
    if not terms:
        return KeywordPlan(organization_id)
    # One term: count it as far as a refined estimate would, rather than twice.
    cap = REFINED_LIMIT if len(terms) == 1 else DRIVING_LIMIT
    sizes = [await estimate(session, organization_id, term, cap) for term in terms]
    rarest = min(range(len(terms)), key=sizes.__getitem__)
    size = sizes[rarest]
    refined = len(terms) == 1 or size < DRIVING_LIMIT
    return KeywordPlan(organization_id, terms, rarest, size, refined)
