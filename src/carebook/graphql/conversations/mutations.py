"""createConversation, updateConversation, updateConversationMembership and
deleteConversationMembership."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.conversations import service
from carebook.conversations.inputs import (
    ConversationChanges,
    MembershipChanges,
    MembershipRemoval,
    NewConversation,
)
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.writes import attempted_ids, audited_write
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.conversations.inputs import (
    CreateConversationInput,
    DeleteConversationMembershipInput,
    UpdateConversationInput,
    UpdateConversationMembershipInput,
)
from carebook.graphql.conversations.types import Conversation, ConversationMembership
from carebook.graphql.inputs import given, typed, value_of
from carebook.graphql.payloads import Payload, payload
from carebook.graphql.permissions import IsAuthenticated

CreateParameters = Annotated[
    CreateConversationInput | None,
    strawberry.argument(description="Parameters for createConversation"),
]
UpdateParameters = Annotated[
    UpdateConversationInput | None,
    strawberry.argument(description="Parameters for updateConversation"),
]
UpdateMembershipParameters = Annotated[
    UpdateConversationMembershipInput | None,
    strawberry.argument(description="Parameters for updateConversationMembership"),
]
DeleteMembershipParameters = Annotated[
    DeleteConversationMembershipInput | None,
    strawberry.argument(description="Parameters for deleteConversationMembership"),
]


@payload("createConversation")
class CreateConversationPayload(
    Payload[Conversation], field="conversation", about="The conversation."
):
    """The new conversation, or why none was created."""


@payload("updateConversation")
class UpdateConversationPayload(
    Payload[Conversation], field="conversation", about="The conversation."
):
    """The changed conversation, or why nothing changed."""


@payload("updateConversationMembership")
class UpdateConversationMembershipPayload(
    Payload[ConversationMembership], field="conversation_membership", about="The membership."
):
    """The changed membership, or why nothing changed."""


@payload("deleteConversationMembership")
class DeleteConversationMembershipPayload(
    Payload[ConversationMembership],
    field="conversationMembership",
    about="The deleted membership (as it was).",
):
    """The membership removed, or why nothing changed."""


def _added_users(input: CreateConversationInput | None) -> str | None:
    """simple_added_users and the values of added_users, as one Healthie list."""
    if input is None:
        return None
    listed = [input.simple_added_users] if given(input.simple_added_users) else []
    picked = input.added_users if given(input.added_users) else None
    listed += [str(entry.value) for entry in picked or () if entry is not None]
    return ",".join(str(item) for item in listed) if listed else None


def _attempted(value: str | None) -> list[int | None]:
    """The users a refused write named (a group's id is no user's)."""
    items = [item.strip().lower() for item in (value or "").split(",")]
    return attempted_ids(item.removeprefix("user-") for item in items if "group-" not in item)


@strawberry.type
class ConversationMutations:
    """Root mutation fields of conversations."""

    @strawberry.mutation(
        description="create Conversation: owned by owner_id (default: the caller), with the "
        "added users (user-<id>, group-<id>) as members.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def createConversation(
        self, info: Info[Context, None], input: CreateParameters = None
    ) -> CreateConversationPayload | None:
        actor = require_actor(info)
        users = _added_users(input)
        fields = NewConversation(
            name=value_of(input, "name"),
            owner_id=value_of(input, "owner_id"),
            simple_added_users=users,
        )
        outcome = await audited_write(
            info,
            lambda s: service.create_conversation(s, actor=actor, fields=fields),
            action="update",  # a patient's conversation membership is part of their record
            attempted=_attempted(users),
        )
        return CreateConversationPayload.answer(outcome, lambda row: Conversation(row=row))

    @strawberry.mutation(
        description="Update a conversation: rename, close (closed_by_id), set its members.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def updateConversation(
        self, info: Info[Context, None], input: UpdateParameters = None
    ) -> UpdateConversationPayload | None:
        actor, fields = require_actor(info), typed(ConversationChanges, input)
        outcome = await audited_write(
            info,
            lambda s: service.update_conversation(s, actor=actor, fields=fields),
            action="update",
            attempted=_attempted(fields.simple_added_users),
        )
        return UpdateConversationPayload.answer(outcome, lambda row: Conversation(row=row))

    @strawberry.mutation(
        description="Update a ConversationMembership and return ConversationMembership.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def updateConversationMembership(
        self, info: Info[Context, None], input: UpdateMembershipParameters = None
    ) -> UpdateConversationMembershipPayload | None:
        actor, fields = require_actor(info), typed(MembershipChanges, input)
        outcome = await audited_write(
            info,
            lambda s: service.update_membership(s, actor=actor, fields=fields),
            action="update",
        )
        return UpdateConversationMembershipPayload.answer(
            outcome, lambda row: ConversationMembership(row=row)
        )

    @strawberry.mutation(
        description="Destroy a ConversationMembership: the user (or the group's patients) "
        "leaves the conversation and loses access to it.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def deleteConversationMembership(
        self, info: Info[Context, None], input: DeleteMembershipParameters = None
    ) -> DeleteConversationMembershipPayload | None:
        actor, fields = require_actor(info), typed(MembershipRemoval, input)
        outcome = await audited_write(
            info,
            lambda s: service.delete_membership(s, actor=actor, fields=fields),
            action="update",
            attempted=attempted_ids([fields.user_id]),
        )
        return DeleteConversationMembershipPayload.answer(
            outcome, lambda row: ConversationMembership(row=row)
        )
