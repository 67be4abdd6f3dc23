"""The filter arguments of conversationMemberships and its count, as Healthie names them."""

from collections.abc import Mapping, Sequence
from enum import Enum

import strawberry

from carebook.auth.actor import Actor
from carebook.conversations.inputs import MembershipFilter, MembershipOrder
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.lookup import id_argument


@strawberry.enum(
    name="ConversationMembershipOrderKeys", description="Conversation Membership sorting enum."
)
class MembershipOrderKeys(Enum):
    """Healthie's ConversationMembershipOrderKeys (carebook.conversations.inputs orders by them)."""

    CREATED_AT_ASC = "CREATED_AT_ASC"
    CREATED_AT_DESC = "CREATED_AT_DESC"
    UPDATED_AT_ASC = "UPDATED_AT_ASC"
    UPDATED_AT_DESC = "UPDATED_AT_DESC"
    CONVERSATION_CREATED_AT_ASC = "CONVERSATION_CREATED_AT_ASC"
    CONVERSATION_CREATED_AT_DESC = "CONVERSATION_CREATED_AT_DESC"
    CONVERSATION_UPDATED_AT_ASC = "CONVERSATION_UPDATED_AT_ASC"
    CONVERSATION_UPDATED_AT_DESC = "CONVERSATION_UPDATED_AT_DESC"


def order_of(value: MembershipOrderKeys | None) -> MembershipOrder:
    """The domain's order of ``order_by`` (null: Healthie's default, UPDATED_AT_DESC)."""
    return MembershipOrder(value.value) if value is not None else MembershipOrder.UPDATED_AT_DESC


# Each accepted value of a String filter, and what it keeps (None: no filter).
ACTIVE_STATUS: Mapping[str, bool | None] = {
    "active": True,
    "archived": False,
    "inactive": False,
    "closed": False,
    "all": None,
}
READ_STATUS: Mapping[str, bool | None] = {"all": None, "read": True, "unread": False}
CONVERSATION_TYPE: Mapping[str, bool | None] = {"all": None, "individual": True, "group": False}

ACTIVE_HELP = "active (default), archived (archived by the member or closed) or all."
READ_HELP = "all (default), read or unread (the member's viewed)."
TYPE_HELP = "all (default), individual (two members) or group (more)."
CLIENT_HELP = "Only conversations this client takes part in."
PROVIDER_HELP = "ID of the provider to get conversation for (if nil, will return current users)."
PROVIDERS_HELP = "Used to filter org chat conversations by provider ids."
KEYWORDS_HELP = "Words each found in the conversation's name or a member's name."
ACCEPTED_HELP = "Accepted; changes nothing in Carebook (docs/api.md, Conversations)."


def _choice(
    name: str, value: str | None, choices: Mapping[str, bool | None], default: str
) -> bool | None:
    key = (value or default).strip().lower()
    if key not in choices:
        accepted = ", ".join(choices)
        raise CodedError(f"{name} must be one of: {accepted}", BAD_USER_INPUT)
    return choices[key]


def _member_ids(
    actor: Actor, provider_id: str | None, provider_ids: Sequence[str | None] | None
) -> tuple[int, ...]:
    ids = [id_argument(provider_id, "provider_id")]
    ids += [id_argument(value, "provider_ids") for value in provider_ids or ()]
    wanted = tuple(dict.fromkeys(i for i in ids if i is not None))
    return wanted or (actor.user_id,)


def membership_filter(
    actor: Actor,
    *,
    active_status: str | None,
    client_id: str | None,
    conversation_type: str | None,
    keywords: str | None,
    provider_id: str | None,
    provider_ids: Sequence[str | None] | None,
    read_status: str | None,
) -> MembershipFilter:
    """The parsed filters; a value outside Healthie's is a BAD_USER_INPUT error."""
    return MembershipFilter(
        member_ids=_member_ids(actor, provider_id, provider_ids),
        client_id=id_argument(client_id, "client_id"),
        active=_choice("active_status", active_status, ACTIVE_STATUS, "active"),
        viewed=_choice("read_status", read_status, READ_STATUS, "all"),
        individual=_choice("conversation_type", conversation_type, CONVERSATION_TYPE, "all"),
        keywords=keywords,
    )
