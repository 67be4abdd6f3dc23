"""The patient list (Healthie's ``users`` / ``usersCount``): filters, keyword search, sorting.

Both queries build their SQL here from one :class:`ListArgs`, so the count always agrees with the
list. Rows start from the actor's visibility scope (``auth/scoping.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from carebook.auth.actor import Actor
from carebook.auth.scoping import visible_patients
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db.base import utcnow
from carebook.scheduling.queries import next_appt_start
from carebook.search.query import keyword_conditions
from carebook.search.text import parse_keywords
from carebook.tags.queries import tagged_with_any
from carebook.user_groups.models import UserGroup
from carebook.users.models import CareTeamMember, User

ACTIVE_STATUSES = ("active", "archived")
# How far down the sort order a page of common keywords is looked for before falling back.
WALK_BUDGET = 2000
MAX_PAGE_SIZE = 100


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
    """The WHERE conditions of a list, whether a keyword drives them, and the conditions to fall
    back on (rarest keyword driving) when only common keywords were given."""

    conditions: list[ColumnElement[bool]]
    driving: bool
    fallback: list[ColumnElement[bool]] | None


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
    fallback = [*plan.fallback, *conditions] if plan.fallback is not None else None
    return Planned([*plan.conditions, *conditions], plan.driving, fallback)


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
    conditions, driving = planned.conditions, planned.driving
    if planned.fallback is not None and args.limit is not None:
        # Only common keywords: their matches are usually dense near the top of the sort order,
        # so look there first; when they are not (a term that follows the sort key, such as a
        # common last name sorted by last name), sort the rarest term's matches instead.
        page = await _page_near_the_top(session, actor, conditions, args, args.limit)
        if page is not None:
            return page
        conditions, driving = planned.fallback, True
    query = visible_patients(actor).where(*conditions)
    query = _sorted(query, args.sort, driving).offset(args.offset)
    if args.limit is not None:
        query = query.limit(args.limit)
    return list((await session.execute(query)).scalars())


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
    planned = await _conditions(session, actor, args)
    if planned is None:
        return 0
    # Counting visits every match anyway: starting from the rarest term's matches beats probing
    # every patient of the practice.
    conditions = planned.fallback if planned.fallback is not None else planned.conditions
    query = visible_patients(actor).where(*conditions).with_only_columns(func.count(User.id))
    return int((await session.execute(query)).scalar_one())
