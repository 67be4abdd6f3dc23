"""Who takes part in a conversation: Healthie's member lists, and adding and removing members.

Every membership added or removed emits its ``conversation_membership.*`` event and records an
update of each patient it concerns (who takes part in a conversation is patient data).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import Target
from carebook.audit.trail import record_write
from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db.base import utcnow
from carebook.errors import Invalid
from carebook.events.emit import Change, emit_all
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.lookup import all_found
from carebook.users.models import User

MAX_PARTICIPANTS = 100
MEMBERSHIP_CREATED = "conversation_membership.created"
MEMBERSHIP_DELETED = "conversation_membership.deleted"


async def listed_users(
    session: AsyncSession, actor: Actor, value: str | None, field: str = "simple_added_users"
) -> list[User]:
    """The users of Healthie's ``"user-1,group-2,3"`` list, in the order given.

    A group stands for its active patients the caller sees (as a form request to a group). Staff
    may name anyone of the organization; a patient the organization's providers and staff and
    themself, never another patient (so a patient's group names only themself).
    """
    listed = v.parse_id_list(value, field, kinds=("user", "group"))
    ids = listed["user"]
    if listed["group"]:
        ids += await user_queries.visible_patient_ids_in_groups(session, actor, listed["group"])
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_PARTICIPANTS:
        raise Invalid.field(field, f"At most {MAX_PARTICIPANTS} participants")
    found = await user_queries.org_users_by_ids(session, actor.organization_id, ids)
    allowed = {
        uid: user
        for uid, user in found.items()
        if not actor.is_patient or not user.is_patient or uid == actor.user_id
    }
    all_found(ids, allowed, field=field, label="Users")
    return [allowed[uid] for uid in ids]


async def memberships_of(
    session: AsyncSession, conversation_id: int
) -> dict[int, ConversationMembership]:
    """The conversation's memberships, by user id."""
    query = select(ConversationMembership).where(
        ConversationMembership.conversation_id == conversation_id
    )
    return {m.user_id: m for m in (await session.execute(query)).scalars()}


async def add_members(
    session: AsyncSession, actor: Actor, conversation: Conversation, users: Sequence[User]
) -> list[ConversationMembership]:
    """New memberships of ``users`` (those already members are left as they are)."""
    present = await memberships_of(session, conversation.id)
    # The owner may also be listed among the added users: one membership each, in order.
    new_ids = [uid for uid in dict.fromkeys(user.id for user in users) if uid not in present]
    added = [
        ConversationMembership(
            conversation_id=conversation.id, user_id=uid, creator_id=actor.user_id
        )
        for uid in new_ids
    ]
    if not added:
        return []
    session.add_all(added)
    await session.flush()
    await emit_all(
        session,
        [Change(conversation.organization_id, MEMBERSHIP_CREATED, m.id) for m in added],
    )
    await _record(session, conversation, [m.user_id for m in added])
    touch(conversation)
    return added


async def remove_members(
    session: AsyncSession, conversation: Conversation, memberships: Sequence[ConversationMembership]
) -> None:
    """Delete these memberships: their users lose access to the conversation with the commit."""
    if not memberships:
        return
    await emit_all(
        session,
        [Change(conversation.organization_id, MEMBERSHIP_DELETED, m.id) for m in memberships],
    )
    for membership in memberships:
        await session.delete(membership)
    await session.flush()
    await _record(session, conversation, [m.user_id for m in memberships])
    touch(conversation)


def touch(conversation: Conversation) -> None:
    """A change its members see: the conversation moves up in lists ordered by updated_at."""
    conversation.updated_at = utcnow()


async def record_patients_of(session: AsyncSession, conversation: Conversation) -> None:
    """An update of each patient taking part in the conversation."""
    members = await memberships_of(session, conversation.id)
    await _record(session, conversation, list(members))


async def _record(session: AsyncSession, conversation: Conversation, user_ids: list[int]) -> None:
    if not user_ids:
        return
    query = select(User.id).where(User.id.in_(user_ids), User.role == Role.PATIENT)
    patients = (await session.execute(query)).scalars()
    targets = [Target(pid, conversation.organization_id) for pid in patients]
    await record_write(session, targets, action="update")
