"""Typed input of the conversation service (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True, kw_only=True)
class NewConversation:
    """``createConversation``: a name, an owner, and the members ("user-1,group-2,3")."""

    name: str | None = None
    owner_id: str | None = None
    simple_added_users: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationChanges:
    """``updateConversation``: rename, close (``closed_by_id``), the members as a whole list."""

    id: str | None = None
    name: str | None = None
    closed_by_id: str | None = None
    simple_added_users: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipChanges:
    """``updateConversationMembership``: one member's read and archive state."""

    id: str | None = None
    viewed: bool | None = None
    archived: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipRemoval:
    """``deleteConversationMembership``: a user, or a group's patients, leave a conversation."""

    conversation_id: str | None = None
    user_id: str | None = None
    group_id: str | None = None


class MembershipOrder(StrEnum):
    """Healthie's ConversationMembershipOrderKeys."""

    CREATED_AT_ASC = "CREATED_AT_ASC"
    CREATED_AT_DESC = "CREATED_AT_DESC"
    UPDATED_AT_ASC = "UPDATED_AT_ASC"
    UPDATED_AT_DESC = "UPDATED_AT_DESC"
    CONVERSATION_CREATED_AT_ASC = "CONVERSATION_CREATED_AT_ASC"
    CONVERSATION_CREATED_AT_DESC = "CONVERSATION_CREATED_AT_DESC"
    CONVERSATION_UPDATED_AT_ASC = "CONVERSATION_UPDATED_AT_ASC"
    CONVERSATION_UPDATED_AT_DESC = "CONVERSATION_UPDATED_AT_DESC"


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipFilter:
    """The filters of ``conversationMemberships`` and its count, already parsed.

    ``member_ids``: whose memberships (provider_id(s), else the caller); ``client_id``: only
    conversations this user takes part in; ``active``: True active only, False archived or
    closed only, None both; ``viewed`` likewise for read_status; ``individual``: True at most
    two members, False more, None both.
    """

    member_ids: tuple[int, ...]
    client_id: int | None = None
    active: bool | None = True
    viewed: bool | None = None
    individual: bool | None = None
    keywords: str | None = None
