"""The patient list (Healthie's ``users`` / ``usersCount``): filters, keyword search, sorting.

Both queries build their SQL here from one :class:`ListArgs`, so the count always agrees with the
list. Rows start from the actor's visibility scope (``users/scoping.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from carebook.auth.actor import Actor
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db.base import utcnow
from carebook.scheduling.queries import next_appt_start
from carebook.search.query import (
    REFINED_LIMIT,
    KeywordPlan,
    Ordered,
    SortKey,
    count_matches,
    estimate,
    holders,
    in_last_name_order,
    keyword_conditions,
    plain,
    refined_rarest,
)
from carebook.search.text import Term, parse_keywords
from carebook.tags.queries import tagged_with_any
from carebook.user_groups.models import UserGroup
from carebook.users.counts import UserCount
from carebook.users.deep_pages import COUNTED_OFFSET, page_ids_statement, page_parameters
from carebook.users.models import CareTeamMember, User
from carebook.users.scoping import sees_every_patient, visible_patients

ACTIVE_STATUSES = ("active", "archived")
# How far down the sort order a page of common keywords is looked for before falling back.
WALK_BUDGET = 2000
MAX_PAGE_SIZE = 100
# From this offset on, a page's ids are found on the sort index alone before rows are read.
DEFERRED_OFFSET = 100
# Candidates of a keyword read in last-name order per round (times the page's end), and rounds.
CANDIDATE_FACTOR = 4
CANDIDATE_ROUNDS = 3
MIN_CANDIDATES = 200
# At most this many candidates per round (bound parameters of one IN list).
MAX_CANDIDATES = 5000


# Built once: aliasing a mapped class per request cost a quarter of a list request's CPU.
_PROVIDER = aliased(User, name="provider")


class ListArgumentError(ValueError):
    """An argument of the list is invalid (unknown sort, negative offset, ...)."""


# Sort keys: Healthie's UserOrderKeys, lower-cased (the seed's sort_by values).
SORT_KEYS = (
    "email_asc", "email_desc", "first_name_asc", "first_name_desc", "last_name_asc",
    "last_name_desc", "created_at_asc", "created_at_desc", "updated_at_asc", "updated_at_desc",
    "group_name_asc", "group_name_desc", "provider_name_asc", "provider_name_desc",
    "next_appt_date_asc", "next_appt_date_desc",
)  # fmt: skip


@dataclass(frozen=True)
class ListArgs:
    """Every argument of ``users`` / ``usersCount`` after parsing."""

    keywords: str | None = None
    active_status: str | None = None
    group_id: int | None = None
    provider_id: int | None = None
    limited_to_provider: bool = False
    conversation_id: int | None = None
    expect_conversation_id: bool = False
    show_all_by_default: bool = True
    ids: Sequence[int] | None = None
    tag_ids: Sequence[int] = field(default_factory=tuple)
    only_with_card: bool = False
    sort: str = "last_name_desc"
    offset: int = 0
    limit: int | None = 10
    # A whole list (limit None) reads at most this many rows: the caller's cap plus one.
    whole_list_rows: int | None = None

    def __post_init__(self) -> None:
        if self.sort not in SORT_KEYS:
            raise ListArgumentError(
                f"Unknown sort '{self.sort[:40]}'; use one of {', '.join(SORT_KEYS)}"
            )
        if self.active_status is not None and self.active_status not in ACTIVE_STATUSES:
            raise ListArgumentError("active_status must be 'active' or 'archived'")
        if self.offset < 0:
            raise ListArgumentError("offset can't be negative")
        if self.limit is not None and not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise ListArgumentError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")


def _provider_condition(actor: Actor, args: ListArgs) -> ColumnElement[bool] | None:
    """``provider_id`` / ``limited_to_provider``; None means no narrowing."""
    if args.provider_id is None and not args.limited_to_provider:
        return None
    provider_id = args.provider_id if args.provider_id is not None else actor.user_id
    provider = _PROVIDER
    # The named user must be a provider/staff member of the caller's organization: anything else
    # (another organization's id, a patient, an unknown id) has access to no patient here.
    is_staff = exists().where(
        provider.id == provider_id,
        provider.organization_id == actor.organization_id,
        provider.role.in_(("provider", "staff")),
    )
    if not args.limited_to_provider:
        return is_staff
    on_team = exists().where(
        CareTeamMember.patient_id == User.id, CareTeamMember.provider_id == provider_id
    )
    return and_(is_staff, or_(User.dietitian_id == provider_id, on_team))


def _conversation_condition(actor: Actor, conversation_id: int) -> ColumnElement[bool]:
    return exists().where(
        ConversationMembership.user_id == User.id,
        ConversationMembership.conversation_id == conversation_id,
        Conversation.id == ConversationMembership.conversation_id,
        Conversation.organization_id == actor.organization_id,
    )


@dataclass(frozen=True)
class Planned:
    """The keyword plan and the other conditions (``filters``) of a list.

    ``conditions`` is the WHERE clause, ``driving`` whether a keyword drives it, and
    ``fallback`` the clause with the rarest keyword driving anyway, when only common keywords
    were given.
    """

    keywords: KeywordPlan
    filters: list[ColumnElement[bool]]

    @property
    def conditions(self) -> list[ColumnElement[bool]]:
        return [*self.keywords.conditions, *self.filters]

    @property
    def driving(self) -> bool:
        return self.keywords.driving

    @property
    def fallback(self) -> list[ColumnElement[bool]] | None:
        fallback = self.keywords.fallback
        return None if fallback is None else [*fallback, *self.filters]


async def _conditions(session: AsyncSession, actor: Actor, args: ListArgs) -> Planned | None:
    """The plan of the list's WHERE clause; None when the answer is empty by definition."""
    terms = parse_keywords(args.keywords)
    if not terms and not args.show_all_by_default:
        return None
    if args.expect_conversation_id and args.conversation_id is None:
        return None
    if args.only_with_card:  # Carebook stores no cards, so no patient has one on file
        return None
    plan = await keyword_conditions(session, actor.organization_id, terms)
    conditions: list[ColumnElement[bool]] = []
    if args.active_status is not None:
        conditions.append(User.active.is_(args.active_status == "active"))
    if args.group_id is not None:
        conditions.append(User.user_group_id == args.group_id)
    if (provider := _provider_condition(actor, args)) is not None:
        conditions.append(provider)
    if args.conversation_id is not None:
        conditions.append(_conversation_condition(actor, args.conversation_id))
    if args.ids is not None:
        conditions.append(User.id.in_(list(args.ids)) if args.ids else false())
    if args.tag_ids:  # Healthie's default [] means no tag filter
        conditions.append(tagged_with_any(actor.organization_id, args.tag_ids))
    return Planned(plan, conditions)


def _active(args: ListArgs) -> bool | None:
    return None if args.active_status is None else args.active_status == "active"


def _direction(column: Any, descending: bool) -> Any:
    return column.desc() if descending else column.asc()


def _sorted(query: Select[User], sort: str, driving: bool = False) -> Select[User]:
    """Apply a sort key with the id as tie-breaker, NULLs last in both directions.

    When a keyword drives the query the candidates are few: the sort keys are wrapped in no-op
    expressions so the database sorts those candidates rather than walking the whole sort index
    and testing each row (SQLite would otherwise prefer the index, because of the LIMIT).
    """
    name, _, direction = sort.rpartition("_")
    descending = direction == "desc"
    columns: list[Any]
    nullable = True  # outer-joined columns are NULL for patients without a group/provider
    if name == "group_name":
        query = query.outerjoin(UserGroup, UserGroup.id == User.user_group_id)
        columns = [UserGroup.name]
    elif name == "provider_name":
        provider = _PROVIDER
        query = query.outerjoin(provider, provider.id == User.dietitian_id)
        columns = [provider.last_name, provider.first_name]
    elif name == "next_appt_date":
        # The same value User.next_appt_date shows; patients without one come last.
        columns = [next_appt_start(User.id, utcnow())]
    else:
        columns = [getattr(User, name)]
        nullable = bool(columns[0].nullable)
    # NULLS LAST only where a value can be NULL: on NOT NULL columns it would stop SQLite from
    # reading the sort index in order.
    if driving:
        columns = [func.coalesce(c, c) for c in columns]
    order: list[Any] = [
        _direction(c, descending).nulls_last() if nullable else _direction(c, descending)
        for c in columns
    ]
    order.append(_direction(User.id + 0 if driving else User.id, descending))
    return query.order_by(*order)


async def list_patients(session: AsyncSession, actor: Actor, args: ListArgs) -> list[User]:
    """One page of the actor's patients (or all of them when ``limit`` is None)."""
    planned = await _conditions(session, actor, args)
    if planned is None:
        return []
    if args.limit is not None and args.sort in ("last_name_asc", "last_name_desc"):
        found = await _page_in_token_order(session, actor, planned, args, args.limit)
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
        # A deep page in last-name order: found from the block counters (deep_pages.py).
        in_page = page_ids_statement(_active(args), args.sort == "last_name_desc")
        rows = _sorted(visible_patients(actor).where(User.id.in_(in_page)), args.sort, True)
        values = page_parameters(actor, args.offset, args.limit)
        return list((await session.execute(rows, values)).scalars())
    query = visible_patients(actor).where(*conditions)
    if args.limit is not None and args.offset >= DEFERRED_OFFSET:
        # A deep page: skip the offset on the sort index alone (PostgreSQL would otherwise read
        # every skipped row from the table), then read the page's rows and sort those.
        ids = _sorted(query.with_only_columns(User.id), args.sort, driving)
        ids = ids.offset(args.offset).limit(args.limit)
        query = _sorted(visible_patients(actor).where(User.id.in_(ids)), args.sort, True)
        return list((await session.execute(query)).scalars())
    query = _sorted(query, args.sort, driving).offset(args.offset)
    query = query.limit(args.limit if args.limit is not None else args.whole_list_rows)
    return list((await session.execute(query)).scalars())


async def count_up_to(session: AsyncSession, actor: Actor, args: ListArgs, most: int) -> int:
    """How many patients the arguments list (without pagination), counting no further than
    ``most``: ids only, so a whole list over its cap is refused without reading its rows."""
    planned = await _conditions(session, actor, args)
    if planned is None:
        return 0
    conditions = planned.fallback if planned.fallback is not None else planned.conditions
    ids = visible_patients(actor).where(*conditions).with_only_columns(User.id).limit(most)
    counted = select(func.count()).select_from(ids.subquery())
    return int((await session.execute(counted)).scalar_one())


def _counted_offset(actor: Actor, args: ListArgs, planned: Planned) -> bool:
    """True when the page can be found from the block counters (``deep_pages.py``).

    They count every patient of the organization by block of last names and status, so: a
    caller who sees all of them, no keyword and no filter but ``active_status``, sorted by last
    name.
    """
    return (
        args.offset >= COUNTED_OFFSET
        and args.sort in ("last_name_asc", "last_name_desc")
        and not planned.keywords.terms
        and _only_active_status(args)
        and sees_every_patient(actor)
    )


async def _driving_term(
    session: AsyncSession, actor: Actor, planned: Planned
) -> tuple[Term, int] | None:
    """The term whose matches are read in last-name order and its range size, or None."""
    keywords = planned.keywords
    term, size = keywords.rarest, keywords.rarest_size
    if not keywords.terms:
        return None
    if not keywords.refined:
        term, size = await refined_rarest(session, actor.organization_id, keywords.terms)
    if size >= REFINED_LIMIT:  # dense: walking the sort order finds the page sooner
        return None
    return (term, size) if term is not None and plain(term) else None


async def _page_in_token_order(
    session: AsyncSession, actor: Actor, planned: Planned, args: ListArgs, limit: int
) -> list[User] | None:
    """A keyword page in last-name order, from the driving term's index in that order.

    The term's (last_name, id) keys come sorted from the token index without reading users;
    each round checks a batch of candidates against every term and filter (ids only), until
    the page is complete; then the page's rows are read. None when no term can drive or the
    matches are too sparse among the candidates (the general path takes over).
    """
    end = args.offset + limit
    if not sees_every_patient(actor) or end * CANDIDATE_FACTOR > MAX_CANDIDATES:
        return None
    driving = await _driving_term(session, actor, planned)
    if driving is None:
        return None
    term, size = driving
    others = tuple(t for t in planned.keywords.terms if t is not term)
    # The database checks the other terms as it reads the keys when reading stops early: the
    # exact word's keys come in order, but longer tokens' keys are all probed before sorting.
    in_sql = bool(others) and await _mostly_exact(session, actor, term, size)
    descending = args.sort == "last_name_desc"
    ordered = Ordered(
        actor.organization_id, term, descending, _active(args), size, others if in_sql else ()
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
        keys = await in_last_name_order(session, ordered, after, batch)
        matched.extend(await _matching(session, actor, planned.filters, unchecked, keys))
        if len(matched) >= end or len(keys) < batch:
            return await _rows(session, actor, matched[args.offset : end])
        after, batch = keys[-1], min(batch * 4, MAX_CANDIDATES)
    return None


async def _mostly_exact(session: AsyncSession, actor: Actor, term: Term, size: int) -> bool:
    """True when the term's exact word holds at least half of its range's rows."""
    exact = await estimate(session, actor.organization_id, term, size, exact=True)
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
    found = set((await session.execute(query)).scalars())
    return [user_id for user_id in ids if user_id in found]


async def _rows(session: AsyncSession, actor: Actor, ids: list[int]) -> list[User]:
    """The users of ``ids``, in that order."""
    if not ids:
        return []
    query = visible_patients(actor).where(User.id.in_(ids))
    found = {user.id: user for user in (await session.execute(query)).scalars()}
    return [found[user_id] for user_id in ids if user_id in found]


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
    window = _sorted(visible_patients(actor).with_only_columns(User.id), args.sort).limit(
        args.offset + WALK_BUDGET
    )
    query = visible_patients(actor).where(User.id.in_(window), *conditions)
    query = _sorted(query, args.sort).offset(args.offset).limit(limit)
    rows = list((await session.execute(query)).scalars())
    return rows if len(rows) == limit else None


async def count_patients(session: AsyncSession, actor: Actor, args: ListArgs) -> int:
    """How many patients the same arguments list, without pagination."""
    if (counted := await _index_only_count(session, actor, args)) is not None:
        return counted
    planned = await _conditions(session, actor, args)
    if planned is None:
        return 0
    # Counting visits every match anyway: starting from the rarest term's matches beats probing
    # every patient of the practice.
    conditions = planned.fallback if planned.fallback is not None else planned.conditions
    query = visible_patients(actor).where(*conditions).with_only_columns(func.count(User.id))
    return int((await session.execute(query)).scalar_one())


def _only_active_status(args: ListArgs) -> bool:
    """True when no argument but keywords and active_status narrows the list."""
    return (
        args.group_id is None
        and args.provider_id is None
        and not args.limited_to_provider
        and args.conversation_id is None
        and not args.expect_conversation_id
        and args.ids is None
        and not args.tag_ids
        and not args.only_with_card
    )


async def _index_only_count(session: AsyncSession, actor: Actor, args: ListArgs) -> int | None:
    """The count from the counters (no keywords) or from one term's index range, else None."""
    if actor.is_patient or not _only_active_status(args):
        return None
    terms = parse_keywords(args.keywords)
    if not terms:
        if not args.show_all_by_default:
            return 0
        return await _maintained_count(session, actor, _active(args))
    if len(terms) == 1 and plain(terms[0]):
        return await count_matches(session, actor.organization_id, terms[0], _active(args))
    return None


async def _maintained_count(session: AsyncSession, actor: Actor, active: bool | None) -> int:
    """The organization's patients from the trigger-maintained counters (users/counts.py)."""
    query = select(func.coalesce(func.sum(UserCount.total), 0)).where(
        UserCount.organization_id == actor.organization_id, UserCount.role == "patient"
    )
    if active is not None:
        query = query.where(UserCount.active.is_(active))
    return int((await session.execute(query)).scalar_one())
