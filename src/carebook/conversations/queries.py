"""Reads of conversations and memberships, scoped to the caller, and DataLoader batches.

Who sees a conversation is decided here, once (:func:`visible_conversations`): a patient the
conversations they are a member of, providers and staff every conversation of their
organization (docs/api.md, Conversations). A membership is seen with its conversation. Member
checks read the memberships at each request, so a removed member loses access at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.conversations.inputs import MembershipFilter, MembershipOrder
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.users.models import User

# A conversation of two (a provider and a client) is Healthie's "individual" one.
INDIVIDUAL_MAX_MEMBERS = 2


def is_member(conversation_id: Any, user_id: int) -> ColumnElement[bool]:
    """Whether ``user_id`` takes part in the conversation ``conversation_id`` names.

    Its own alias of the memberships: a query of memberships must not correlate it with its
    rows (that would ask whether the listed membership is the user's)."""
    member = aliased(ConversationMembership)
    return exists().where(member.conversation_id == conversation_id, member.user_id == user_id)


def visible_where(actor: Actor) -> ColumnElement[bool]:
    """The condition on ``Conversation`` for the conversations ``actor`` may read."""
    same_organization = Conversation.organization_id == actor.organization_id
    if actor.is_patient:
        return and_(same_organization, is_member(Conversation.id, actor.user_id))
    return same_organization


def visible_conversations(actor: Actor) -> Select[Conversation]:
    """A SELECT of the conversations ``actor`` may read."""
    return select(Conversation).where(visible_where(actor))


async def get_visible_conversation(
    session: AsyncSession, actor: Actor, conversation_id: int, *, lock: bool = False
) -> Conversation | None:
    """A conversation of the caller's organization; a patient only one they take part in.

    ``lock``: its row is locked until the transaction ends (PostgreSQL; SQLite's writers take
    turns anyway), so a change of its members reads the members the previous change left.
    """
    query = visible_conversations(actor).where(Conversation.id == conversation_id)
    if lock:
        query = query.with_for_update(of=Conversation)
    return (await session.execute(query)).scalar_one_or_none()


async def list_shared_conversations(
    session: AsyncSession, actor: Actor, *, with_user: int | None, limit: int
) -> list[Conversation]:
    """``conversations``: the caller's, or those the caller shares with ``with_user``; newest
    change first."""
    query = visible_conversations(actor).where(is_member(Conversation.id, actor.user_id))
    if with_user is not None:
        query = query.where(is_member(Conversation.id, with_user))
    query = query.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


def shows_membership(actor: Actor | None, user_id: int, member_is_patient: bool) -> bool:
    """Whether ``actor`` may read a membership of a conversation it sees: providers and staff
    any; a patient their own and those of the practice's members, never another patient's
    (whether they read or archived it is theirs). :func:`_memberships` is the same in SQL."""
    if actor is None or not actor.is_patient:
        return actor is not None
    return user_id == actor.user_id or not member_is_patient


def _memberships(actor: Actor) -> Select[ConversationMembership]:
    """The memberships ``actor`` may read (see :func:`shows_membership`)."""
    query = (
        select(ConversationMembership)
        .join(Conversation, Conversation.id == ConversationMembership.conversation_id)
        .where(visible_where(actor))
    )
    if actor.is_patient:
        member = aliased(User)
        other_patient = exists().where(
            member.id == ConversationMembership.user_id,
            member.id != actor.user_id,
            member.role == Role.PATIENT,
        )
        query = query.where(~other_patient)
    return query


async def get_visible_membership(
    session: AsyncSession, actor: Actor, membership_id: int
) -> ConversationMembership | None:
    """A membership of a conversation the caller sees."""
    query = _memberships(actor).where(ConversationMembership.id == membership_id)
    return (await session.execute(query)).scalar_one_or_none()


async def get_owner_membership(
    session: AsyncSession, actor: Actor, conversation_id: int
) -> ConversationMembership | None:
    """``conversationMembership(id:)``: the membership of the conversation's owner."""
    query = _memberships(actor).where(
        ConversationMembership.conversation_id == conversation_id,
        ConversationMembership.user_id == Conversation.owner_id,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def get_membership_of(
    session: AsyncSession, conversation_id: int, user_id: int
) -> ConversationMembership | None:
    """The membership of ``user_id`` in a conversation (the caller checked the conversation)."""
    query = select(ConversationMembership).where(
        ConversationMembership.conversation_id == conversation_id,
        ConversationMembership.user_id == user_id,
    )
    return (await session.execute(query)).scalar_one_or_none()


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _keyword(term: str) -> ColumnElement[bool]:
    """One keyword: in the conversation's name or a member's first or last name, any case."""
    pattern = f"%{_escape_like(term.casefold())}%"
    member = aliased(User)
    other = aliased(ConversationMembership)
    in_member_name = exists().where(
        other.conversation_id == Conversation.id,
        member.id == other.user_id,
        or_(
            func.lower(member.first_name).like(pattern, escape="\\"),
            func.lower(member.last_name).like(pattern, escape="\\"),
        ),
    )
    return or_(func.lower(Conversation.name).like(pattern, escape="\\"), in_member_name)


def _member_count() -> Any:
    other = aliased(ConversationMembership)
    return (
        select(func.count())
        .where(other.conversation_id == Conversation.id)
        .correlate(Conversation)
        .scalar_subquery()
    )


def _filtered(actor: Actor, args: MembershipFilter) -> Select[ConversationMembership]:
    query = _memberships(actor).where(ConversationMembership.user_id.in_(args.member_ids))
    if actor.is_patient:  # a patient reads their own inbox only
        query = query.where(ConversationMembership.user_id == actor.user_id)
    if args.client_id is not None:
        query = query.where(is_member(Conversation.id, args.client_id))
    if args.active is not None:
        archived = or_(ConversationMembership.archived, Conversation.closed_at.is_not(None))
        query = query.where(~archived if args.active else archived)
    if args.viewed is not None:
        query = query.where(ConversationMembership.viewed.is_(args.viewed))
    if args.individual is not None:
        count = _member_count()
        small = count <= INDIVIDUAL_MAX_MEMBERS
        query = query.where(small if args.individual else ~small)
    for term in (args.keywords or "").split():
        query = query.where(_keyword(term))
    return query


_ORDER: dict[MembershipOrder, tuple[Any, bool]] = {
    MembershipOrder.CREATED_AT_ASC: (ConversationMembership.created_at, False),
    MembershipOrder.CREATED_AT_DESC: (ConversationMembership.created_at, True),
    MembershipOrder.UPDATED_AT_ASC: (ConversationMembership.updated_at, False),
    MembershipOrder.UPDATED_AT_DESC: (ConversationMembership.updated_at, True),
    MembershipOrder.CONVERSATION_CREATED_AT_ASC: (Conversation.created_at, False),
    MembershipOrder.CONVERSATION_CREATED_AT_DESC: (Conversation.created_at, True),
    MembershipOrder.CONVERSATION_UPDATED_AT_ASC: (Conversation.updated_at, False),
    MembershipOrder.CONVERSATION_UPDATED_AT_DESC: (Conversation.updated_at, True),
}


async def list_memberships(
    session: AsyncSession,
    actor: Actor,
    args: MembershipFilter,
    *,
    order: MembershipOrder,
    offset: int,
    limit: int,
) -> list[ConversationMembership]:
    """A page of ``conversationMemberships``; ties broken by id, in the same direction."""
    column, descending = _ORDER[order]
    keys = (column.desc(), ConversationMembership.id.desc()) if descending else (
        column, ConversationMembership.id
    )  # fmt: skip
    query = _filtered(actor, args).order_by(*keys).offset(offset).limit(limit)
    return list((await session.execute(query)).scalars())


async def count_memberships(session: AsyncSession, actor: Actor, args: MembershipFilter) -> int:
    """``conversationMembershipsCount``: the number of memberships the same filters find."""
    inner = _filtered(actor, args).with_only_columns(ConversationMembership.id).subquery()
    return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())


async def load_members(session: AsyncSession, ids: Sequence[int]) -> list[list[User]]:
    """The members of each conversation, by id, in key order."""
    rows = await session.execute(
        select(ConversationMembership.conversation_id, User)
        .join(User, User.id == ConversationMembership.user_id)
        .where(ConversationMembership.conversation_id.in_(ids))
        .order_by(User.id)
    )
    by_conversation: dict[int, list[User]] = defaultdict(list)
    for conversation_id, user in rows:
        by_conversation[conversation_id].append(user)
    return [by_conversation.get(i, []) for i in ids]


async def load_memberships(
    session: AsyncSession, ids: Sequence[int]
) -> list[list[ConversationMembership]]:
    """The memberships of each conversation, oldest first, in key order."""
    rows = await session.execute(
        select(ConversationMembership)
        .where(ConversationMembership.conversation_id.in_(ids))
        .order_by(ConversationMembership.id)
    )
    by_conversation: dict[int, list[ConversationMembership]] = defaultdict(list)
    for membership in rows.scalars():
        by_conversation[membership.conversation_id].append(membership)
    return [by_conversation.get(i, []) for i in ids]


async def load_conversations(
    session: AsyncSession, ids: Sequence[int]
) -> list[Conversation | None]:
    """Conversations by id (keys come from memberships the caller sees), in key order."""
    rows = await session.execute(select(Conversation).where(Conversation.id.in_(ids)))
    by_id = {row.id: row for row in rows.scalars()}
    return [by_id.get(i) for i in ids]


async def patient_members(session: AsyncSession, conversation_id: int) -> list[tuple[int, int]]:
    """(id, organization_id) of the patients taking part in a conversation, by id."""
    query = (
        select(User.id, User.organization_id)
        .join(ConversationMembership, ConversationMembership.user_id == User.id)
        .where(
            ConversationMembership.conversation_id == conversation_id,
            User.role == Role.PATIENT,
        )
        .order_by(User.id)
    )
    return [(user_id, org_id) for user_id, org_id in (await session.execute(query)).all()]


async def load_last_conversation_ids(
    session: AsyncSession, user_ids: Sequence[int]
) -> list[int | None]:
    """The newest conversation each user takes part in (ids grow with creation), in key order.

    Only conversations of the user's own organization count (as in
    note_queries.load_unread_counts): the services never make a membership across
    organizations, and a reader must not learn of one that a bug or a hand-made row did."""
    rows = await session.execute(
        select(ConversationMembership.user_id, func.max(ConversationMembership.conversation_id))
        .join(Conversation, Conversation.id == ConversationMembership.conversation_id)
        .join(User, User.id == ConversationMembership.user_id)
        .where(
            ConversationMembership.user_id.in_(user_ids),
            Conversation.organization_id == User.organization_id,
        )
        .group_by(ConversationMembership.user_id)
    )
    by_user: dict[int, int] = {user_id: convo_id for user_id, convo_id in rows}
    return [by_user.get(user_id) for user_id in user_ids]
