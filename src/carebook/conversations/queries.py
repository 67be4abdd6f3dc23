"""Reads of conversations, scoped to the caller, and DataLoader batch functions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.users.models import User


async def get_visible_conversation(
    session: AsyncSession, actor: Actor, conversation_id: int
) -> Conversation | None:
    """A conversation of the caller's organization; a patient only one they take part in."""
    query = select(Conversation).where(
        Conversation.id == conversation_id,
        Conversation.organization_id == actor.organization_id,
    )
    if actor.is_patient:
        query = query.where(
            exists().where(
                ConversationMembership.conversation_id == Conversation.id,
                ConversationMembership.user_id == actor.user_id,
            )
        )
    return (await session.execute(query)).scalar_one_or_none()


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

    Only conversations of the user's own organization count (as in load_unseen_counts): the
    services never make a membership across organizations, and a reader must not learn of one
    that a bug or a hand-made row did."""
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


async def load_unseen_counts(session: AsyncSession, user_ids: Sequence[int]) -> list[int]:
    """How many of each user's conversations they cannot have seen yet, in key order.

    Conversations hold no messages or read receipts yet (issue 29), so "unseen" is what the
    data proves: a conversation someone else started after the user's last activity
    (users.last_activity_at; all of them when the user was never active).
    """
    started_by_other = or_(
        Conversation.owner_id.is_(None), Conversation.owner_id != ConversationMembership.user_id
    )
    after_activity = or_(
        User.last_activity_at.is_(None), Conversation.created_at > User.last_activity_at
    )
    rows = await session.execute(
        select(ConversationMembership.user_id, func.count())
        .join(Conversation, Conversation.id == ConversationMembership.conversation_id)
        .join(User, User.id == ConversationMembership.user_id)
        .where(
            ConversationMembership.user_id.in_(user_ids),
            Conversation.organization_id == User.organization_id,
            started_by_other,
            after_activity,
        )
        .group_by(ConversationMembership.user_id)
    )
    by_user: dict[int, int] = {user_id: count for user_id, count in rows}
    return [by_user.get(user_id, 0) for user_id in user_ids]
