"""Reads of user groups and onboarding flows, and the batch functions behind their DataLoaders.

Groups and flows are read inside the actor's organization; the patients of a group are read
through the actor's visibility scope (``users/scoping.py``), so a patient who reaches their own
group sees only themselves in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.user_groups.models import OnboardingFlow, UserGroup
from carebook.users.list_limits import ListArgumentError
from carebook.users.models import User
from carebook.users.scoping import visible_groups_where, visible_patients

# Healthie's UserGroupOrderKeys lower-cased, and the seed's other sort_by values mapped onto them.
GROUP_SORTS = (
    "name_asc", "name_desc", "invite_code_asc", "invite_code_desc",
    "created_at_asc", "created_at_desc", "users_count_asc", "users_count_desc",
)  # fmt: skip
GROUP_SORT_ALIASES = {
    "name": "name_asc",
    "invite_code": "invite_code_asc",
    "group_name_asc": "name_asc",
    "group_name_desc": "name_desc",
}
# Healthie's OnboardingFlowOrderKeys lower-cased, and its guide's sort_by values.
FLOW_SORTS = (
    "name_asc", "name_desc", "created_at_asc", "created_at_desc",
    "forms_count_asc", "forms_count_desc",
)  # fmt: skip
FLOW_SORT_ALIASES = {
    "name": "name_asc",
    "onboarding_flow_name_asc": "name_asc",
    "onboarding_flow_name_desc": "name_desc",
}


@dataclass(frozen=True)
class ListArgs:
    """The arguments of a group or flow list after parsing: ``sort`` is already canonical, and
    ``offset`` / ``limit`` (None: the whole list) checked by the GraphQL layer's pagination."""

    keywords: str | None = None
    sort: str = "name_asc"
    offset: int = 0
    limit: int | None = None


def canonical_sort(value: str, sorts: Sequence[str], aliases: Mapping[str, str]) -> str:
    """A sort_by / order_by value as one of ``sorts``; unknown values are an error."""
    text = value.strip().lower()
    text = aliases.get(text, text)
    if text not in sorts:
        known = ", ".join([*aliases, *sorts])
        raise ListArgumentError(f"Unknown sort '{value[:40]}'; use one of {known}")
    return text


def _keyword_conditions(name_key: Any, keywords: str | None) -> list[ColumnElement[bool]]:
    """Every word of ``keywords`` must appear in the (case-folded) name."""
    words = (keywords or "").casefold().split()
    escaped = (w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words)
    return [name_key.like(f"%{word}%", escape="\\") for word in escaped]


def _ordered(query: Select[Any], key: Any, id_column: Any, descending: bool) -> Select[Any]:
    """Sort by ``key`` (None: by id alone) with the id as the tie-breaker."""
    columns = ([key] if key is not None else []) + [id_column]
    return query.order_by(*(c.desc() if descending else c.asc() for c in columns))


def _paged(query: Select[Any], args: ListArgs) -> Select[Any]:
    query = query.offset(args.offset)
    return query.limit(args.limit) if args.limit is not None else query


def _users_count() -> ColumnElement[int]:
    """The number of active patients of the group on the outer query's row."""
    return (
        select(func.count(User.id))
        .where(User.user_group_id == UserGroup.id, User.role == Role.PATIENT, User.active)
        .correlate(UserGroup)
        .scalar_subquery()
    )


def visible_groups(actor: Actor) -> Select[UserGroup]:
    """A SELECT of the user groups ``actor`` may read (the rule: users.scoping)."""
    return select(UserGroup).where(
        visible_groups_where(actor, UserGroup.id, UserGroup.organization_id)
    )


def _groups(actor: Actor, keywords: str | None) -> Select[UserGroup]:
    return visible_groups(actor).where(*_keyword_conditions(UserGroup.name_key, keywords))


async def get_visible_group(session: AsyncSession, actor: Actor, group_id: int) -> UserGroup | None:
    """The group with this id if ``actor`` may see it, else None."""
    result = await session.execute(visible_groups(actor).where(UserGroup.id == group_id))
    return result.scalar_one_or_none()


async def list_groups(session: AsyncSession, actor: Actor, args: ListArgs) -> list[UserGroup]:
    """The groups the actor may see matching ``keywords``, sorted, one page (or all)."""
    name, _, direction = args.sort.rpartition("_")
    keys = {
        "name": UserGroup.name_key,
        "invite_code": UserGroup.invite_code,
        "created_at": UserGroup.created_at,
        "users_count": _users_count(),
    }
    query = _ordered(_groups(actor, args.keywords), keys[name], UserGroup.id, direction == "desc")
    return list((await session.execute(_paged(query, args))).scalars())


async def count_groups(session: AsyncSession, actor: Actor, keywords: str | None) -> int:
    """How many of the groups the actor may see match ``keywords``."""
    query = select(func.count()).select_from(_groups(actor, keywords).subquery())
    return int((await session.execute(query)).scalar_one())


async def group_named(
    session: AsyncSession, organization_id: int, name_key: str, exclude_id: int | None = None
) -> UserGroup | None:
    """The organization's group with this case-folded name, other than ``exclude_id``."""
    query = select(UserGroup).where(
        UserGroup.organization_id == organization_id, UserGroup.name_key == name_key
    )
    if exclude_id is not None:
        query = query.where(UserGroup.id != exclude_id)
    return (await session.execute(query.limit(1))).scalar_one_or_none()


async def group_ids_in_org(
    session: AsyncSession, organization_id: int, ids: Sequence[int]
) -> set[int]:
    """Which of ``ids`` are groups of the organization."""
    if not ids:
        return set()
    query = select(UserGroup.id).where(
        UserGroup.id.in_(ids), UserGroup.organization_id == organization_id
    )
    return set((await session.execute(query)).scalars())


async def invite_code_taken(session: AsyncSession, code: str) -> bool:
    """True when a group or a provider/staff member already has this invite code."""
    query = select(
        exists().where(UserGroup.invite_code == code) | exists().where(User.invite_code == code)
    )
    return bool((await session.execute(query)).scalar_one())


async def get_flow_in_org(
    session: AsyncSession, organization_id: int, flow_id: int
) -> OnboardingFlow | None:
    """An onboarding flow of the organization, or None."""
    query = select(OnboardingFlow).where(
        OnboardingFlow.id == flow_id, OnboardingFlow.organization_id == organization_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def flow_of_patient(
    session: AsyncSession, actor: Actor, patient_id: int
) -> OnboardingFlow | None:
    """The onboarding flow of a visible patient's group, or None."""
    group_id = (
        visible_patients(actor)
        .where(User.id == patient_id)
        .with_only_columns(User.user_group_id)
        .scalar_subquery()
    )
    query = select(OnboardingFlow).join(
        UserGroup, UserGroup.onboarding_flow_id == OnboardingFlow.id
    )
    return (await session.execute(query.where(UserGroup.id == group_id))).scalar_one_or_none()


def _flows(organization_id: int, keywords: str | None) -> Select[OnboardingFlow]:
    return select(OnboardingFlow).where(
        OnboardingFlow.organization_id == organization_id,
        *_keyword_conditions(OnboardingFlow.name_key, keywords),
    )


async def list_flows(
    session: AsyncSession, organization_id: int, args: ListArgs
) -> list[OnboardingFlow]:
    """The organization's onboarding flows matching ``keywords``, sorted, one page (or all)."""
    name, _, direction = args.sort.rpartition("_")
    # Flows hold no forms in Carebook, so every flow has forms_count 0: id order.
    keys = {"name": OnboardingFlow.name_key, "created_at": OnboardingFlow.created_at}
    query = _ordered(
        _flows(organization_id, args.keywords),
        keys.get(name),
        OnboardingFlow.id,
        direction == "desc",
    )
    return list((await session.execute(_paged(query, args))).scalars())


async def count_flows(session: AsyncSession, organization_id: int, keywords: str | None) -> int:
    """How many of the organization's onboarding flows match ``keywords``."""
    query = select(func.count()).select_from(_flows(organization_id, keywords).subquery())
    return int((await session.execute(query)).scalar_one())


# --- batch functions behind DataLoaders -------------------------------------------------------


async def load_users_counts(
    session: AsyncSession, actor: Actor, group_ids: Sequence[int]
) -> list[int]:
    """The number of active patients (that the actor may see) in each group, in key order."""
    rows = await session.execute(
        visible_patients(actor)
        .with_only_columns(User.user_group_id, func.count(User.id))
        .where(User.user_group_id.in_(group_ids), User.active)
        .group_by(User.user_group_id)
    )
    counts = {group_id: int(count) for group_id, count in rows}
    return [counts.get(group_id, 0) for group_id in group_ids]


async def load_group_patients(
    session: AsyncSession, actor: Actor, keys: Sequence[tuple[int, int | None]], *, per_key: int
) -> list[list[User]]:
    """For each (group_id, conversation_id or None): the first ``per_key`` of the group's
    patients that the actor may see (active and archived), by last name; with a conversation,
    only those taking part in it.

    The limit is applied in SQL (ROW_NUMBER per group): a group of thousands reads ``per_key``
    rows, so a caller passing its cap plus one learns the group is over it at that cost.
    """
    by_conversation: dict[int | None, set[int]] = defaultdict(set)
    for group_id, conversation in keys:
        by_conversation[conversation].add(group_id)
    found: dict[tuple[int, int | None], list[User]] = defaultdict(list)
    order = (User.last_name, User.first_name, User.id)
    for conversation, group_ids in by_conversation.items():
        query = visible_patients(actor).where(User.user_group_id.in_(group_ids))
        if conversation is not None:
            query = query.where(_in_conversation(actor, conversation))
        rank = func.row_number().over(partition_by=User.user_group_id, order_by=order)
        window = query.with_only_columns(User.id, rank.label("rank")).subquery()
        rows = await session.execute(
            select(User)
            .join(window, window.c.id == User.id)
            .where(window.c.rank <= per_key)
            .order_by(*order)
        )
        for user in rows.scalars():
            assert user.user_group_id is not None
            found[(user.user_group_id, conversation)].append(user)
    return [found.get(key, []) for key in keys]


def _in_conversation(actor: Actor, conversation_id: int) -> ColumnElement[bool]:
    """The patient takes part in this conversation of the actor's organization."""
    return exists().where(
        ConversationMembership.conversation_id == conversation_id,
        ConversationMembership.user_id == User.id,
        Conversation.id == ConversationMembership.conversation_id,
        Conversation.organization_id == actor.organization_id,
    )


async def load_provider_counts(session: AsyncSession, organization_ids: Sequence[int]) -> list[int]:
    """The number of active providers of each organization, in key order."""
    rows = await session.execute(
        select(User.organization_id, func.count(User.id))
        .where(User.organization_id.in_(organization_ids), User.role == Role.PROVIDER, User.active)
        .group_by(User.organization_id)
    )
    counts = {organization_id: int(count) for organization_id, count in rows}
    return [counts.get(organization_id, 0) for organization_id in organization_ids]


async def load_flows(session: AsyncSession, ids: Sequence[int]) -> list[OnboardingFlow | None]:
    """Onboarding flows by id in key order. Callers pass only ids reached through visible rows."""
    rows = await session.execute(select(OnboardingFlow).where(OnboardingFlow.id.in_(ids)))
    by_id = {flow.id: flow for flow in rows.scalars()}
    return [by_id.get(flow_id) for flow_id in ids]


async def load_flow_groups(
    session: AsyncSession, actor: Actor, flow_ids: Sequence[int]
) -> list[list[UserGroup]]:
    """The groups (that the actor may see) using each onboarding flow, by name, in key order."""
    rows = await session.execute(
        visible_groups(actor)
        .where(UserGroup.onboarding_flow_id.in_(flow_ids))
        .order_by(UserGroup.name_key, UserGroup.id)
    )
    by_flow: dict[int, list[UserGroup]] = defaultdict(list)
    for group in rows.scalars():
        assert group.onboarding_flow_id is not None
        by_flow[group.onboarding_flow_id].append(group)
    return [by_flow.get(flow_id, []) for flow_id in flow_ids]


async def lock_group_patients(
    session: AsyncSession, *, actor: Actor, group_id: int
) -> list[tuple[int, int]] | None:
    """(id, organization_id) of a group's patients, archived ones included; None if not ours.

    The group row is locked first (PostgreSQL): a patient being added to the group concurrently
    holds a key-share lock on it, so this waits for that to commit and sees every member.
    """
    group = select(UserGroup.id).where(
        UserGroup.id == group_id, UserGroup.organization_id == actor.organization_id
    )
    if (await session.execute(group.with_for_update())).first() is None:
        return None
    query = (
        select(User.id, User.organization_id)
        .where(User.user_group_id == group_id, User.role == Role.PATIENT)
        .order_by(User.id)
    )
    return [(user_id, org_id) for user_id, org_id in (await session.execute(query)).all()]


async def get_group_in_org(
    session: AsyncSession, organization_id: int, group_id: int
) -> UserGroup | None:
    """A user group of the organization, or None."""
    query = select(UserGroup).where(
        UserGroup.id == group_id, UserGroup.organization_id == organization_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def load_groups(session: AsyncSession, ids: Sequence[int]) -> list[UserGroup | None]:
    """User groups by id in key order."""
    rows = await session.execute(select(UserGroup).where(UserGroup.id.in_(ids)))
    by_id = {group.id: group for group in rows.scalars()}
    return [by_id.get(group_id) for group_id in ids]
