"""Reads of tags, always scoped to the actor, the patient-list tag filter, and batch functions."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.tags.models import AppliedTag, Tag, Tagging
from carebook.users.models import User
from carebook.users.scoping import visible_users

STAFF_ROLES = (Role.PROVIDER.value, Role.STAFF.value)


class TagOrder(enum.StrEnum):
    """Sort orders of the tag list (Healthie's TagOrderKeys, lower-cased)."""

    NAME_ASC = "name_asc"
    NAME_DESC = "name_desc"
    ACTIVE_USERS_ASC = "active_users_asc"
    ACTIVE_USERS_DESC = "active_users_desc"
    ADDED_BY_ASC = "added_by_asc"
    ADDED_BY_DESC = "added_by_desc"
    ORG_MEMBERS_ASC = "org_members_asc"
    ORG_MEMBERS_DESC = "org_members_desc"


@dataclass(frozen=True)
class TagCounts:
    """How many users carry a tag: active patients, archived patients, org members."""

    active_users: int = 0
    archived_users: int = 0
    org_members: int = 0


def tagged_with_any(organization_id: int, tag_ids: Sequence[int]) -> ColumnElement[bool]:
    """A WHERE clause on ``User``: the user carries at least one of ``tag_ids``.

    Only tags of ``organization_id`` count, so another organization's tag ids match nobody.
    Meant for ``users(tag_ids:)`` and ``usersCount(tag_ids:)``, on top of the actor's scope::

        visible_patients(actor).where(tagged_with_any(actor.organization_id, ids))

    An empty ``tag_ids`` matches nobody; Healthie's default ``tag_ids: []`` means "no filter",
    so callers apply this clause only when ids were given.
    """
    carriers = (
        select(Tagging.user_id)
        .join(Tag, Tag.id == Tagging.tag_id)
        .where(Tag.organization_id == organization_id, Tagging.tag_id.in_(tag_ids))
    )
    return User.id.in_(carriers)


def visible_tags(actor: Actor) -> Select[Tag]:
    """A SELECT of the tags ``actor`` may read.

    Providers and staff see every tag of their organization; a patient sees the tags applied to
    themselves.
    """
    query = select(Tag).where(Tag.organization_id == actor.organization_id)
    if actor.is_patient:
        query = query.where(
            Tag.id.in_(select(Tagging.tag_id).where(Tagging.user_id == actor.user_id))
        )
    return query


async def get_tag_in_org(session: AsyncSession, organization_id: int, tag_id: int) -> Tag | None:
    """A tag of the organization, or None (another organization's tag answers None too)."""
    query = select(Tag).where(Tag.id == tag_id, Tag.organization_id == organization_id)
    return (await session.execute(query)).scalar_one_or_none()


async def tags_in_org_by_ids(
    session: AsyncSession, organization_id: int, ids: Sequence[int]
) -> dict[int, Tag]:
    """The organization's tags among ``ids``, keyed by id (missing ones are absent)."""
    query = select(Tag).where(Tag.id.in_(ids), Tag.organization_id == organization_id)
    return {tag.id: tag for tag in (await session.execute(query)).scalars()}


async def tag_name_taken(
    session: AsyncSession, owner_id: int, name_key: str, exclude_id: int | None = None
) -> bool:
    """True when the owner already has a tag with this (case-folded) name."""
    query = select(Tag.id).where(Tag.user_id == owner_id, Tag.name_key == name_key)
    if exclude_id is not None:
        query = query.where(Tag.id != exclude_id)
    return (await session.execute(query.limit(1))).first() is not None


async def applied_tag_ids(session: AsyncSession, user_id: int, tag_ids: Sequence[int]) -> set[int]:
    """Which of ``tag_ids`` are already applied to the user."""
    query = select(Tagging.tag_id).where(Tagging.user_id == user_id, Tagging.tag_id.in_(tag_ids))
    return set((await session.execute(query)).scalars())


def _count_of(roles: Sequence[str], active: bool | None = None) -> ColumnElement[int]:
    """A correlated count of the users with one of ``roles`` who carry the outer query's tag."""
    conditions = [Tagging.tag_id == Tag.id, User.role.in_(roles)]
    if active is not None:
        conditions.append(User.active.is_(active))
    return (
        select(func.count())
        .select_from(Tagging)
        .join(User, User.id == Tagging.user_id)
        .where(*conditions)
        .correlate(Tag)
        .scalar_subquery()
    )


def _order_by(order: TagOrder) -> list[ColumnElement[Any]]:
    added_by = select(User.first_name).where(User.id == Tag.user_id).correlate(Tag)
    keys: dict[TagOrder, ColumnElement[Any]] = {
        TagOrder.NAME_ASC: Tag.name_key.asc(),
        TagOrder.NAME_DESC: Tag.name_key.desc(),
        TagOrder.ACTIVE_USERS_ASC: _count_of([Role.PATIENT.value], True).asc(),
        TagOrder.ACTIVE_USERS_DESC: _count_of([Role.PATIENT.value], True).desc(),
        TagOrder.ADDED_BY_ASC: added_by.scalar_subquery().asc(),
        TagOrder.ADDED_BY_DESC: added_by.scalar_subquery().desc(),
        TagOrder.ORG_MEMBERS_ASC: _count_of(STAFF_ROLES).asc(),
        TagOrder.ORG_MEMBERS_DESC: _count_of(STAFF_ROLES).desc(),
    }
    return [keys[order], Tag.name_key.asc(), Tag.id.asc()]


def _filtered_tags(
    actor: Actor, ids: Sequence[int] | None, user_id: int | None, applied_to_providers: bool
) -> Select[Tag]:
    """The tags ``actor`` may see, narrowed as ``tags`` and ``tagsCount`` narrow them."""
    query = visible_tags(actor)
    if ids is not None:
        query = query.where(Tag.id.in_(ids))
    if user_id is not None:
        carriers = visible_users(actor).where(User.id == user_id).with_only_columns(User.id)
        query = query.where(Tag.id.in_(select(Tagging.tag_id).where(Tagging.user_id.in_(carriers))))
    if applied_to_providers and actor.is_patient:
        # Which of a patient's tags a provider also carries is not the patient's to learn.
        return query.where(false())
    if applied_to_providers:
        on_staff = (
            select(Tagging.tag_id)
            .join(User, User.id == Tagging.user_id)
            .where(User.role.in_(STAFF_ROLES))
        )
        query = query.where(Tag.id.in_(on_staff))
    return query


async def list_tags(
    session: AsyncSession,
    actor: Actor,
    *,
    ids: Sequence[int] | None = None,
    user_id: int | None = None,
    applied_to_providers: bool = False,
    order: TagOrder = TagOrder.NAME_ASC,
) -> list[Tag]:
    """The tags ``actor`` may see, filtered and sorted as Healthie's ``tags`` query does."""
    query = _filtered_tags(actor, ids, user_id, applied_to_providers)
    return list((await session.execute(query.order_by(*_order_by(order)))).scalars())


async def count_tags(
    session: AsyncSession,
    actor: Actor,
    *,
    ids: Sequence[int] | None = None,
    user_id: int | None = None,
    applied_to_providers: bool = False,
) -> int:
    """How many tags :func:`list_tags` lists for the same arguments (Healthie's ``tagsCount``)."""
    query = _filtered_tags(actor, ids, user_id, applied_to_providers)
    counted = select(func.count()).select_from(query.with_only_columns(Tag.id).subquery())
    return int((await session.execute(counted)).scalar_one())


# --- applied tags (Healthie's AppliedTag) -----------------------------------------------------


class AppliedTagOrder(enum.StrEnum):
    """Sort orders of ``appliedTags`` (Healthie's AppliedTagOrderKeys, lower-cased)."""

    CREATED_AT_ASC = "created_at_asc"
    CREATED_AT_DESC = "created_at_desc"
    UPDATED_AT_ASC = "updated_at_asc"
    UPDATED_AT_DESC = "updated_at_desc"
    UNSORTED = "unsorted"


@dataclass(frozen=True)
class AppliedTagFilter:
    """The arguments of ``appliedTags``: whose, which tag, updated when, in which order."""

    user_id: int | None = None
    tag_id: int | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    order: AppliedTagOrder = AppliedTagOrder.UNSORTED


def _visible_applied_tags(actor: Actor) -> Select[AppliedTag, Tag | None]:
    """Applied tags on users the actor may see, each with its tag (None once deleted).

    A patient sees only the tags applied to themselves (users/scoping.py decides who is seen).
    """
    seen = visible_users(actor).with_only_columns(User.id)
    return (
        select(AppliedTag, Tag)
        .outerjoin(Tag, Tag.id == AppliedTag.tag_id)
        .where(AppliedTag.user_id.in_(seen))
    )


async def get_visible_applied_tag(
    session: AsyncSession, actor: Actor, applied_tag_id: int, *, include_deleted: bool = False
) -> tuple[AppliedTag, Tag | None] | None:
    """One applied tag the actor may see (a removed one only with ``include_deleted``)."""
    query = _visible_applied_tags(actor).where(AppliedTag.id == applied_tag_id)
    if not include_deleted:
        query = query.where(AppliedTag.deleted_at.is_(None))
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row is not None else None


_APPLIED_ORDER: dict[AppliedTagOrder, tuple[Any, ...]] = {
    AppliedTagOrder.CREATED_AT_ASC: (AppliedTag.created_at.asc(), AppliedTag.id.asc()),
    AppliedTagOrder.CREATED_AT_DESC: (AppliedTag.created_at.desc(), AppliedTag.id.desc()),
    AppliedTagOrder.UPDATED_AT_ASC: (AppliedTag.updated_at.asc(), AppliedTag.id.asc()),
    AppliedTagOrder.UPDATED_AT_DESC: (AppliedTag.updated_at.desc(), AppliedTag.id.desc()),
    # "Unsorted" still answers in one stable order (by id), so a repeated call agrees with itself.
    AppliedTagOrder.UNSORTED: (AppliedTag.id.asc(),),
}


async def list_applied_tags(
    session: AsyncSession, actor: Actor, filters: AppliedTagFilter, *, limit: int
) -> list[tuple[AppliedTag, Tag | None]]:
    """The tags currently applied to users the actor may see, filtered; at most ``limit`` rows
    (a caller passing its cap plus one learns the list is over it)."""
    query = _visible_applied_tags(actor).where(AppliedTag.deleted_at.is_(None))
    if filters.user_id is not None:
        query = query.where(AppliedTag.user_id == filters.user_id)
    if filters.tag_id is not None:
        query = query.where(AppliedTag.tag_id == filters.tag_id)
    if filters.updated_after is not None:
        query = query.where(AppliedTag.updated_at > filters.updated_after)
    if filters.updated_before is not None:
        query = query.where(AppliedTag.updated_at < filters.updated_before)
    query = query.order_by(*_APPLIED_ORDER[filters.order]).limit(limit)
    return [(applied, tag) for applied, tag in (await session.execute(query)).all()]


# --- batch functions behind DataLoaders -------------------------------------------------------


async def load_user_tags(
    session: AsyncSession, user_ids: Sequence[int], *, per_key: int
) -> list[list[Tag]]:
    """The first ``per_key`` tags applied to each user, by name, in key order.

    The limit is applied in SQL (ROW_NUMBER per user): a caller passing its cap plus one learns
    a list is over it without reading the rest.
    """
    order = (Tag.name_key, Tag.id)
    rank = func.row_number().over(partition_by=Tagging.user_id, order_by=order)
    window = (
        select(Tagging.user_id, Tagging.tag_id, rank.label("rank"))
        .join(Tag, Tag.id == Tagging.tag_id)
        .where(Tagging.user_id.in_(user_ids))
        .subquery()
    )
    rows = await session.execute(
        select(window.c.user_id, Tag)
        .join(Tag, Tag.id == window.c.tag_id)
        .where(window.c.rank <= per_key)
        .order_by(*order)
    )
    by_user: dict[int, list[Tag]] = defaultdict(list)
    for user_id, tag in rows:
        by_user[user_id].append(tag)
    return [by_user.get(user_id, []) for user_id in user_ids]


# A tag and how many of its users, in name order, are wanted (a page's end, or the cap + 1).
TagRows = tuple[int, int]
# SQLite refuses a compound SELECT of more than 500 parts.
_TAGS_PER_STATEMENT = 400


def _first_of_tag(tag_id: int, rows: int, only_user_id: int | None) -> Select[int, int, str, str]:
    """The first ``rows`` users of one tag, by name: a top-N, not a sort of all its taggings."""
    query = (
        select(
            Tagging.tag_id.label("tag_id"),
            User.id.label("user_id"),
            User.last_name.label("last_name"),
            User.first_name.label("first_name"),
        )
        .join(User, User.id == Tagging.user_id)
        .where(Tagging.tag_id == tag_id)
        .order_by(User.last_name, User.first_name, User.id)
        .limit(rows)
    )
    if only_user_id is not None:
        query = query.where(User.id == only_user_id)
    return query


async def load_tagged_user_ids(
    session: AsyncSession, tag_ids: Sequence[TagRows], *, only_user_id: int | None
) -> list[list[int]]:
    """The ids of the first users carrying each tag, by last and first name, in key order;
    with ``only_user_id``, only that user.

    Each key is (tag id, rows wanted): a tag's rows are read once, up to the most any key of
    the batch wants (the largest page end, or one past the cap for a whole list), in one
    statement for all the tags. Ids only: a page then loads its own rows alone (through the
    user loader).
    """
    wanted: dict[int, int] = {}
    for tag_id, rows in tag_ids:
        wanted[tag_id] = max(wanted.get(tag_id, 0), max(rows, 0))
    tags = list(wanted.items())
    by_tag: dict[int, list[int]] = defaultdict(list)
    for first in range(0, len(tags), _TAGS_PER_STATEMENT):
        parts = [
            select(*part.c).select_from(part)
            for part in (
                _first_of_tag(tag_id, rows, only_user_id).subquery()
                for tag_id, rows in tags[first : first + _TAGS_PER_STATEMENT]
            )
        ]
        both = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        query = select(both.c.tag_id, both.c.user_id).order_by(
            both.c.tag_id, both.c.last_name, both.c.first_name, both.c.user_id
        )
        for tag_id, user_id in await session.execute(query):
            by_tag[tag_id].append(user_id)
    return [by_tag.get(tag_id, [])[: max(rows, 0)] for tag_id, rows in tag_ids]


async def load_tag_counts(session: AsyncSession, tag_ids: Sequence[int]) -> list[TagCounts]:
    """Active patients, archived patients and org members carrying each tag, in key order."""
    patient = User.role == Role.PATIENT.value

    def count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = await session.execute(
        select(
            Tagging.tag_id,
            count_where(and_(patient, User.active.is_(True))),
            count_where(and_(patient, User.active.is_(False))),
            count_where(User.role.in_(STAFF_ROLES)),
        )
        .join(User, User.id == Tagging.user_id)
        .where(Tagging.tag_id.in_(tag_ids))
        .group_by(Tagging.tag_id)
    )
    counts = {
        tag_id: TagCounts(int(active), int(archived), int(members))
        for tag_id, active, archived, members in rows
    }
    return [counts.get(tag_id, TagCounts()) for tag_id in tag_ids]


async def lock_tag_patients(
    session: AsyncSession, *, actor: Actor, tag_id: int
) -> list[tuple[int, int]]:
    """(id, organization_id) of the patients carrying a tag of the actor's organization.

    The tag row is locked first (PostgreSQL): a tagging being added concurrently holds a
    key-share lock on it, so this waits for that to commit and sees every carrier (the audit
    trail of deleteTag and updateTag names each of them).
    """
    tag = (
        select(Tag.id)
        .join(User, User.id == Tag.user_id)
        .where(Tag.id == tag_id, User.organization_id == actor.organization_id)
    )
    if (await session.execute(tag.with_for_update(of=Tag))).first() is None:
        return []
    query = (
        select(User.id, User.organization_id)
        .join(Tagging, Tagging.user_id == User.id)
        .where(Tagging.tag_id == tag_id, User.role == Role.PATIENT)
        .order_by(User.id)
    )
    return [(user_id, org_id) for user_id, org_id in (await session.execute(query)).all()]
