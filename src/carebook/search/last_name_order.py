"""A plain term's matches in last-name order, read from the token index without user rows.

The term's range is read as disjoint streams of (last_name, user_id) keys, one per patient,
each already in the list's order on ``ix_search_tokens_org_token_sort`` or cheap to sort, and
merged by the database (docs/search.md, "Access paths", item 2). Statements are built once per
shape and sampled bounds remembered, both in the application's :class:`SearchState`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from carebook.db.rows import core_rows
from carebook.search.models import SearchToken
from carebook.search.state import SearchState, SortKey
from carebook.search.terms import range_or_date
from carebook.search.text import Term, dob_token, prefix_upper_bound

# Sampling pays when a range holds more than this many times the keys wanted.
SAMPLE_SIZE_FACTOR = 8


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
    match = range_or_date(
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


def _statement(shape: Shape) -> Select[str, int]:
    """The keys query of this shape, values bound (see :func:`_keys`)."""
    descending, active, after, bounded, sampled, kinds, split = shape
    where = [_at_or_before("bound", descending)] if bounded else []
    where += [_holds(index, *kind) for index, kind in enumerate(kinds)]
    if sampled:
        where.append(SearchToken.user_id % bindparam("modulus", type_=Integer) == 0)
    return _merged(_streams(descending, active, after, where, split), descending)


async def _keys(
    session: AsyncSession,
    state: SearchState,
    ordered: Ordered,
    params: dict[str, Any],
    shape: Shape,
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
    # Built once per shape with bound parameters: building one (about a dozen SELECTs) cost more
    # CPU than the database took to run it.
    statement = state.keys_statements.built(shape, lambda: _statement(shape))
    rows: Sequence[Any] = await core_rows(session, statement, params)
    return [(row[0], row[1]) for row in rows]


async def in_last_name_order(
    session: AsyncSession,
    state: SearchState,
    ordered: Ordered,
    after: SortKey | None,
    limit: int,
) -> list[SortKey]:
    """The next ``limit`` (last_name, user_id) of the term's patients in the list's order.

    Index-only reads of the term's streams (see :func:`_streams`), merged: the database orders
    keys without reading user rows. In a large range, a bound (a key that about twice ``limit``
    keys reach) lets the longer tokens' stream sort only the keys before it: remembered from an
    earlier call, or found on a sample (ids in one residue class). When fewer than ``limit``
    keys reach the bound, the unbounded query runs.

    Bounds are remembered per (ordered range, position, batch) in ``state.bounds``: a hint,
    never an answer. A bounded query that still returns a full batch is exact whatever the
    bound, so a stale bound (rows changed since) costs one more query, never a wrong page.
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
        bound = state.bounds.get(hint)
        if bound is None:
            sample = {**params, "modulus": modulus, "limit": 2 * limit // modulus + 2}
            keys = await _keys(session, state, o, sample, shape(sampled=True))
            bound = keys[-1] if len(keys) == sample["limit"] else None
        if bound is not None:
            bounded = {**params, "bound_last_name": bound[0], "bound_user_id": bound[1]}
            keys = await _keys(session, state, o, bounded, shape(bounded=True))
            if len(keys) == limit:
                state.bounds.put(hint, bound)
                return keys
            state.bounds.pop(hint)
    return await _keys(session, state, o, params, shape())
