"""Writes of conversations: createConversation, updateConversation and the memberships' own.

Services take a session and an actor, flush but never commit (the request owns the
transaction), and raise :class:`carebook.errors.Invalid` for anything the caller got wrong.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor, require_staff
from carebook.conversations import members, note_queries, queries
from carebook.conversations.inputs import (
    ConversationChanges,
    MembershipChanges,
    MembershipRemoval,
    NewConversation,
)
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db import lengths
from carebook.db.base import utcnow
from carebook.errors import Invalid, NotFound
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.lookup import found
from carebook.users.models import User

CONVERSATION_NOT_FOUND = "Conversation not found"
MEMBERSHIP_NOT_FOUND = "Conversation membership not found"


async def _owner(session: AsyncSession, actor: Actor, raw_id: str | None) -> int:
    """``owner_id``: the caller by default; staff may name a provider or staff member."""
    owner_id = v.parse_id(raw_id, "owner_id")
    if owner_id is None or owner_id == actor.user_id:
        return actor.user_id
    if (
        actor.is_patient
        or await user_queries.get_staff_member(session, actor.organization_id, owner_id) is None
    ):
        raise NotFound.field("owner_id", "Owner not found")
    return owner_id


def _first_patient(users: list[User]) -> int | None:
    return next((user.id for user in users if user.is_patient), None)


async def create_conversation(
    session: AsyncSession, *, actor: Actor, fields: NewConversation
) -> Conversation:
    """A conversation of its owner (the caller unless ``owner_id`` names another) and the
    added users. The caller takes part only as the owner: staff starting a conversation for a
    provider leave it to the provider and the client, as an integration does."""
    owner_id = await _owner(session, actor, fields.owner_id)
    added = await members.listed_users(session, actor, fields.simple_added_users)
    found_users = await user_queries.org_users_by_ids(session, actor.organization_id, [owner_id])
    people = [found_users[owner_id], *added]
    conversation = Conversation(
        organization_id=actor.organization_id,
        owner_id=owner_id,
        name=v.clean_text("name", fields.name, limit=lengths.LABEL),
        patient_id=_first_patient(people),
    )
    session.add(conversation)
    await session.flush()
    await members.add_members(session, actor, conversation, people)
    return conversation


async def _conversation(
    session: AsyncSession, actor: Actor, raw_id: str | None, field: str, *, lock: bool = False
) -> Conversation:
    return await found(
        raw_id,
        lambda cid: queries.get_visible_conversation(session, actor, cid, lock=lock),
        field=field,
        missing=CONVERSATION_NOT_FOUND,
    )


async def _close(session: AsyncSession, actor: Actor, conversation: Conversation, raw: str) -> None:
    closer_id = v.parse_id(raw, "closed_by_id")
    closer = None
    if closer_id is not None:
        closer = await user_queries.get_staff_member(session, actor.organization_id, closer_id)
    if closer is None:
        raise NotFound.field("closed_by_id", "User not found")
    if conversation.closed_at is None:  # closing again keeps the first closing
        conversation.closed_by_id = closer.id
        conversation.closed_at = utcnow()


async def update_conversation(
    session: AsyncSession, *, actor: Actor, fields: ConversationChanges
) -> Conversation:
    """Rename, close, or set the members (providers and staff of the organization).

    ``simple_added_users`` is the whole list of members besides the owner, as Healthie's
    conversation settings send it: users not in it leave, users new to it join.
    """
    require_staff(actor)
    # Locked: two member lists set at once must not both read the old members and leave a
    # mix of the two (tests/concurrency/test_conversation_member_races.py).
    conversation = await _conversation(session, actor, fields.id, "id", lock=True)
    if fields.name is not None:
        conversation.name = v.clean_text("name", fields.name, limit=lengths.LABEL)
    if fields.closed_by_id is not None:
        await _close(session, actor, conversation, fields.closed_by_id)
    if fields.simple_added_users is not None and fields.simple_added_users.strip():
        wanted = await members.listed_users(session, actor, fields.simple_added_users)
        keep = {user.id for user in wanted} | {conversation.owner_id}
        present = await members.memberships_of(session, conversation.id)
        leaving = [m for uid, m in present.items() if uid not in keep]
        await members.remove_members(session, conversation, leaving)
        await members.add_members(session, actor, conversation, wanted)
        if conversation.patient_id is None:
            conversation.patient_id = _first_patient(wanted)
    members.touch(conversation)
    await session.flush()
    await members.record_patients_of(session, conversation)
    return conversation


async def update_membership(
    session: AsyncSession, *, actor: Actor, fields: MembershipChanges
) -> ConversationMembership:
    """Mark read (``viewed``) or archive one membership: the member's own, or (providers and
    staff) one of a conversation of the organization."""
    membership = await found(
        fields.id,
        lambda mid: queries.get_visible_membership(session, actor, mid),
        field="id",
        missing=MEMBERSHIP_NOT_FOUND,
    )
    if actor.is_patient and membership.user_id != actor.user_id:
        raise NotFound.field("id", MEMBERSHIP_NOT_FOUND)
    if fields.viewed is not None:
        membership.viewed = fields.viewed
    if fields.viewed:  # read up to the newest message (marking unread keeps past receipts)
        newest = await note_queries.newest_note_id(session, membership.conversation_id)
        membership.last_read_note_id = newest or membership.last_read_note_id
    if fields.archived is not None:
        membership.archived = fields.archived
    await session.flush()
    conversation = await session.get_one(Conversation, membership.conversation_id)
    await members.record_patients_of(session, conversation)
    return membership


async def delete_membership(
    session: AsyncSession, *, actor: Actor, fields: MembershipRemoval
) -> ConversationMembership:
    """Remove a user, or a group's patients, from a conversation; the first removed is returned.

    Providers and staff remove anyone but the owner; a patient only themself (leaving).
    Locked as ``update_conversation``: a member removed by several requests at once leaves
    once (one ``conversation_membership.deleted``); the others are told they are not a member.
    """
    conversation = await _conversation(
        session, actor, fields.conversation_id, "conversation_id", lock=True
    )
    listed = ",".join(
        f"{kind}-{value}"
        for kind, value in (("user", fields.user_id), ("group", fields.group_id))
        if value is not None and str(value).strip()
    )
    if not listed:
        raise Invalid.field("user_id", "User can't be blank")
    users = await members.listed_users(session, actor, listed, field="user_id")
    if actor.is_patient and any(user.id != actor.user_id for user in users):
        raise NotFound.field("user_id", "User not found")
    if conversation.owner_id in {user.id for user in users}:
        raise Invalid.field("user_id", "The owner can't be removed from the conversation")
    present = await members.memberships_of(session, conversation.id)
    leaving = [present[user.id] for user in users if user.id in present]
    if not leaving:
        raise NotFound.field("user_id", "User is not a member of the conversation")
    await members.remove_members(session, conversation, leaving)
    return leaving[0]
