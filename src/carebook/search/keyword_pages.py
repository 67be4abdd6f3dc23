"""A keyword page in last-name order, read from the driving term's index in that order.

The term's (last_name, id) keys come sorted from the token index without reading users
(``last_name_order``); each round checks a batch of candidates against every other term and
filter (ids only) until the page is complete; then the page's rows are read
(docs/search.md, "Access paths", item 2).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.db.rows import core_rows, entities
from carebook.search.arguments import ListArgs, active
from carebook.search.last_name_order import Ordered, in_last_name_order
from carebook.search.planner import Planned
from carebook.search.rows import IDS, rows_by_id
from carebook.search.state import SearchState, SortKey
from carebook.search.terms import REFINED_LIMIT, estimate, holders, plain, refined_rarest
from carebook.search.text import Term
from carebook.users.models import User
from carebook.users.scoping import sees_every_patient, visible_patients

# Candidates of a keyword read in last-name order per round (times the page's end), and rounds.
CANDIDATE_FACTOR = 4
CANDIDATE_ROUNDS = 3
MIN_CANDIDATES = 200
# At most this many candidates per round (bound parameters of one IN list).
MAX_CANDIDATES = 5000


async def _driving_term(
    session: AsyncSession, state: SearchState, actor: Actor, planned: Planned
) -> tuple[Term, int] | None:
    """The term whose matches are read in last-name order and its range size, or None."""
    keywords = planned.keywords
    term, size = keywords.rarest, keywords.rarest_size
    if not keywords.terms:
        return None
    if not keywords.refined:
        term, size = await refined_rarest(session, state, actor.organization_id, keywords.terms)
    if size >= REFINED_LIMIT:  # dense: walking the sort order finds the page sooner
        return None
    return (term, size) if term is not None and plain(term) else None


async def page_in_token_order(
    session: AsyncSession,
    state: SearchState,
    actor: Actor,
    planned: Planned,
    args: ListArgs,
    limit: int,
) -> list[User] | None:
    """The page, or None when no term can drive or the matches are too sparse among the
    candidates (the general path takes over)."""
    end = args.offset + limit
    if not sees_every_patient(actor) or end * CANDIDATE_FACTOR > MAX_CANDIDATES:
        return None
    driving = await _driving_term(session, state, actor, planned)
    if driving is None:
        return None
    term, size = driving
    others = tuple(t for t in planned.keywords.terms if t is not term)
    # The database checks the other terms as it reads the keys when reading stops early: the
    # exact word's keys come in order, but longer tokens' keys are all probed before sorting.
    in_sql = bool(others) and await _mostly_exact(session, state, actor, term, size)
    descending = args.sort == "last_name_desc"
    ordered = Ordered(
        actor.organization_id, term, descending, active(args), size, others if in_sql else ()
    )
    unchecked = () if in_sql else others
    # With other terms or filters only some candidates match: start with a batch that usually
    # completes the page at once. Alone, the term's keys (one per patient) all match.
    narrowing = bool(planned.filters) or bool(unchecked)
    batch = end
    if narrowing:
        batch = min(max(int(end * CANDIDATE_FACTOR * 16), MIN_CANDIDATES), MAX_CANDIDATES)
    after, matched = None, []
    for _ in range(CANDIDATE_ROUNDS):
        keys = await in_last_name_order(session, state, ordered, after, batch)
        matched.extend(await _matching(session, actor, planned.filters, unchecked, keys))
        if len(matched) >= end or len(keys) < batch:
            return await _rows(session, state, actor, args, matched[args.offset : end])
        after, batch = keys[-1], min(batch * 4, MAX_CANDIDATES)
    return None


async def _mostly_exact(
    session: AsyncSession, state: SearchState, actor: Actor, term: Term, size: int
) -> bool:
    """True when the term's exact word holds at least half of its range's rows."""
    exact = await estimate(session, state, actor.organization_id, term, size, exact=True)
    return 2 * exact >= size


async def _matching(
    session: AsyncSession,
    actor: Actor,
    filters: list[ColumnElement[bool]],
    terms: tuple[Term, ...],
    keys: list[SortKey],
) -> list[int]:
    """The candidates' ids (in their order, once each) that match ``terms`` and ``filters``.

    The candidates come from the driving term's range, already checked against the terms the
    database checked while reading them; ``terms`` are the rest, each with one query on the
    token index, then the filters with one query on users.
    """
    ids = list(dict.fromkeys(user_id for _, user_id in keys))
    for term in terms:
        if ids:
            held = await holders(session, term, ids)
            ids = [user_id for user_id in ids if user_id in held]
    if not ids or not filters:
        # The keys come from the token index of the actor's organization, for patients only:
        # for a caller who sees every patient of it, they are visible (see the caller).
        return ids
    query = visible_patients(actor).with_only_columns(User.id)
    query = query.where(User.id.in_(ids), *filters)
    found = {row[0] for row in await core_rows(session, query)}
    return [user_id for user_id in ids if user_id in found]


async def _rows(
    session: AsyncSession, state: SearchState, actor: Actor, args: ListArgs, ids: list[int]
) -> list[User]:
    """The users of ``ids``, in that order."""
    if not ids:
        return []
    query = rows_by_id(state, actor, args)
    found = {user.id: user for user in await entities(session, User, query, {IDS: ids})}
    return [found[user_id] for user_id in ids if user_id in found]
