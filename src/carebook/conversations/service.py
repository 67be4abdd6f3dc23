"""Creating conversations (Healthie's createConversation)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.conversations import queries
from carebook.conversations.inputs import NewConversation
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db import lengths
from carebook.errors import Invalid
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.lookup import all_found
from carebook.users.trail import record_ids

MAX_PARTICIPANTS = 100


def _participant_ids(value: str | None) -> list[int]:
    """``simple_added_users``: Healthie's comma-separated ids, ``"user-12,13"``."""
    return v.parse_id_list(value, "simple_added_users")["user"]


async def create_conversation(
    session: AsyncSession, *, actor: Actor, fields: NewConversation
) -> Conversation:
    """A conversation owned by the caller, with the caller and the added users as members.

    Staff may add anyone of the organization; a patient may add the organization's providers
    and staff (never another patient).
    """
    ids = _participant_ids(fields.simple_added_users)
    if len(ids) > MAX_PARTICIPANTS:
        raise Invalid.field("simple_added_users", f"At most {MAX_PARTICIPANTS} participants")
    found = await user_queries.org_users_by_ids(session, actor.organization_id, ids)
    allowed = {
        uid
        for uid, user in found.items()
        if not actor.is_patient or not user.is_patient or uid == actor.user_id
    }
    all_found(ids, allowed, field="simple_added_users", label="Users")
    conversation = Conversation(
        organization_id=actor.organization_id,
        owner_id=actor.user_id,
        name=v.clean_text("name", fields.name, limit=lengths.LABEL),
    )
    session.add(conversation)
    await session.flush()
    # No conversation_membership.created yet: a membership has no id of its own (its key is
    # conversation and user) nor a GraphQL type to query back. Issue 29 gives it both, then
    # emits here, one event per membership (events/catalog.py says what to add).
    members = dict.fromkeys([actor.user_id, *ids])
    session.add_all(
        ConversationMembership(conversation_id=conversation.id, user_id=uid) for uid in members
    )
    await session.flush()
    # Who takes part is patient data: each patient member (the caller included) is updated.
    patients = await queries.patient_members(session, conversation.id)
    await record_ids(session, patients, action="update")
    return conversation
