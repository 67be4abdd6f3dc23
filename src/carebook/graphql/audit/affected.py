"""Patients a write changes that its own result does not name, looked up in its transaction.

``createConversation`` returns a conversation and ``deleteUserGroup`` a deleted group: the
patients they change (new members; patients moved out of the group) are found with one SELECT
inside the write's transaction, so the events commit or roll back with the change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import Target
from carebook.auth.actor import Actor
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.errors import Invalid
from carebook.user_groups.models import UserGroup
from carebook.users.models import Role, User
from carebook.users.validation import parse_id


async def conversation_members(session: AsyncSession, conversation: Conversation) -> list[Target]:
    """The patients who are members of a conversation just created."""
    query = (
        select(User.id, User.organization_id)
        .join(ConversationMembership, ConversationMembership.user_id == User.id)
        .where(
            ConversationMembership.conversation_id == conversation.id,
            User.role == Role.PATIENT,
        )
        .order_by(User.id)
    )
    rows = (await session.execute(query)).all()
    return [Target(user_id, organization_id) for user_id, organization_id in rows]


def group_members(
    actor: Actor, fields: Mapping[str, Any]
) -> Callable[[AsyncSession], Awaitable[Sequence[Target]]]:
    """The patients of the group ``deleteUserGroup`` is asked to delete (before it moves them)."""

    async def lookup(session: AsyncSession) -> list[Target]:
        try:
            group_id = parse_id(fields.get("id"), "id")
        except Invalid:
            return []  # the write itself refuses the id, with the same message
        if group_id is None:
            return []
        # The group row is locked first (PostgreSQL): a patient being added to the group
        # concurrently holds a key-share lock on it, so this waits for that to commit and the
        # SELECT below sees every patient the write's UPDATE will move.
        group = select(UserGroup.id).where(
            UserGroup.id == group_id, UserGroup.organization_id == actor.organization_id
        )
        if (await session.execute(group.with_for_update())).first() is None:
            return []  # refused by the write: not the caller's group
        query = (
            select(User.id, User.organization_id)
            .where(User.user_group_id == group_id, User.role == Role.PATIENT)
            .order_by(User.id)
        )
        rows = (await session.execute(query)).all()
        return [Target(user_id, organization_id) for user_id, organization_id in rows]

    return lookup
