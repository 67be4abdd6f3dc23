"""Patients a write changes that its own result does not name, looked up in its transaction.

``createConversation`` returns a conversation, ``deleteUserGroup`` a deleted group and
``deleteTag``/``updateTag`` a tag: the patients they change (new members; patients moved out of
the group; patients carrying the tag) are found with one SELECT inside the write's transaction,
so the events commit or roll back with the change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import Target
from carebook.auth.actor import Actor
from carebook.conversations import queries as conversations
from carebook.conversations.models import Conversation
from carebook.errors import Invalid
from carebook.tags import queries as tags
from carebook.user_groups import queries as user_groups
from carebook.users.validation import parse_id


async def conversation_members(session: AsyncSession, conversation: Conversation) -> list[Target]:
    """The patients who are members of a conversation just created."""
    rows = await conversations.patient_members(session, conversation.id)
    return [Target(user_id, organization_id) for user_id, organization_id in rows]


def _patients_locked_by(
    raw_id: str | int | None,
    lock: Callable[[AsyncSession, int], Awaitable[Sequence[tuple[int, int]] | None]],
) -> Callable[[AsyncSession], Awaitable[Sequence[Target]]]:
    """A look-up of the patients that ``lock`` locks for the record the input's ``id`` names."""

    async def lookup(session: AsyncSession) -> list[Target]:
        try:
            record_id = parse_id(raw_id, "id")
        except Invalid:
            return []  # the write itself refuses the id, with the same message
        if record_id is None:
            return []
        # None: not the caller's record, which the write refuses.
        rows = await lock(session, record_id)
        return [Target(user_id, organization_id) for user_id, organization_id in rows or []]

    return lookup


def group_members(
    actor: Actor, group_id: str | int | None
) -> Callable[[AsyncSession], Awaitable[Sequence[Target]]]:
    """The patients of the group ``deleteUserGroup`` is asked to delete (before it moves them)."""
    return _patients_locked_by(
        group_id,
        lambda session, group_id: user_groups.lock_group_patients(
            session, actor=actor, group_id=group_id
        ),
    )


def tag_carriers(
    actor: Actor, tag_id: str | int | None
) -> Callable[[AsyncSession], Awaitable[Sequence[Target]]]:
    """The patients carrying the tag ``deleteTag`` removes or ``updateTag`` renames (before)."""
    return _patients_locked_by(
        tag_id,
        lambda session, tag_id: tags.lock_tag_patients(session, actor=actor, tag_id=tag_id),
    )
