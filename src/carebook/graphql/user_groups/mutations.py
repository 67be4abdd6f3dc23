"""Group and onboarding-flow mutations: createGroup, updateUserGroup, deleteUserGroup,
createOnboardingFlow, updateOnboardingFlow."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.writes import audited_write
from carebook.graphql.common import require_actor, write
from carebook.graphql.context import Context
from carebook.graphql.inputs import typed
from carebook.graphql.payloads import MessagesFirst, payload
from carebook.graphql.permissions import IsStaff
from carebook.graphql.user_groups.inputs import (
    CreateGroupInput,
    CreateOnboardingFlowInput,
    DeleteUserGroupInput,
    UpdateOnboardingFlowInput,
    UpdateUserGroupInput,
)
from carebook.graphql.user_groups.types import OnboardingFlow, UserGroup
from carebook.user_groups import service
from carebook.user_groups.inputs import FlowChanges, GroupChanges, GroupDeletion, NewFlow, NewGroup


@payload("createGroup")
class CreateGroupPayload(
    MessagesFirst[UserGroup], field="user_group", about="The created user group."
):
    """The new group, or why none was created."""


@payload("updateUserGroup")
class UpdateUserGroupPayload(MessagesFirst[UserGroup], field="user_group", about="The user group."):
    """The updated group, or why nothing changed."""


@payload("deleteUserGroup")
class DeleteUserGroupPayload(
    MessagesFirst[UserGroup], field="user_group", about="The deleted user group, as it was."
):
    """The deleted group, or why nothing changed."""


@payload("createOnboardingFlow")
class CreateOnboardingFlowPayload(
    MessagesFirst[OnboardingFlow], field="onboardingFlow", about="The created onboarding flow."
):
    """The new onboarding flow, or why none was created."""


@payload("updateOnboardingFlow")
class UpdateOnboardingFlowPayload(
    MessagesFirst[OnboardingFlow], field="onboardingFlow", about="The onboarding flow."
):
    """The updated onboarding flow, or why nothing changed."""


@strawberry.type
class UserGroupMutations:
    """Root mutation fields of user groups and onboarding flows."""

    @strawberry.mutation(
        description="Create a Group in the caller's organization, with a fresh invite code.",
        permission_classes=[IsStaff],
    )
    async def createGroup(
        self,
        info: Info[Context, None],
        input: Annotated[
            CreateGroupInput | None, strawberry.argument(description="Parameters for createGroup.")
        ] = None,
    ) -> CreateGroupPayload | None:
        ctx, actor = info.context, require_actor(info)
        outcome = await write(
            ctx, lambda s: service.create_group(s, actor=actor, fields=typed(NewGroup, input))
        )
        return CreateGroupPayload.answer(outcome, UserGroup.from_row)

    @strawberry.mutation(
        description="Update a Group: its name and/or its onboarding flow.",
        permission_classes=[IsStaff],
    )
    async def updateUserGroup(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdateUserGroupInput | None,
            strawberry.argument(description="Parameters for updateUserGroup."),
        ] = None,
    ) -> UpdateUserGroupPayload | None:
        ctx, actor = info.context, require_actor(info)
        outcome = await write(
            ctx, lambda s: service.update_group(s, actor=actor, fields=typed(GroupChanges, input))
        )
        return UpdateUserGroupPayload.answer(outcome, UserGroup.from_row)

    @strawberry.mutation(
        description="Delete a Group. Its patients move to group_to_receive_clients, or to no "
        "group when it is blank.",
        permission_classes=[IsStaff],
    )
    async def deleteUserGroup(
        self,
        info: Info[Context, None],
        input: Annotated[
            DeleteUserGroupInput | None,
            strawberry.argument(description="Parameters for deleteUserGroup."),
        ] = None,
    ) -> DeleteUserGroupPayload | None:
        actor, fields = require_actor(info), typed(GroupDeletion, input)
        outcome = await audited_write(
            info,
            lambda s: service.delete_group(s, actor=actor, fields=fields),
            action="update",  # the patients moved out of the group
            attempted=(),  # a refused delete moved nobody
        )
        return DeleteUserGroupPayload.answer(outcome, UserGroup.from_row)

    @strawberry.mutation(
        description="Create an OnboardingFlow, optionally used by some groups.",
        permission_classes=[IsStaff],
    )
    async def createOnboardingFlow(
        self,
        info: Info[Context, None],
        input: Annotated[
            CreateOnboardingFlowInput | None,
            strawberry.argument(description="Parameters for createOnboardingFlow."),
        ] = None,
    ) -> CreateOnboardingFlowPayload | None:
        ctx, actor = info.context, require_actor(info)
        outcome = await write(
            ctx, lambda s: service.create_flow(s, actor=actor, fields=typed(NewFlow, input))
        )
        return CreateOnboardingFlowPayload.answer(outcome, OnboardingFlow.from_row)

    @strawberry.mutation(
        description="Update an OnboardingFlow: its name and/or the groups that use it.",
        permission_classes=[IsStaff],
    )
    async def updateOnboardingFlow(
        self,
        info: Info[Context, None],
        input: Annotated[
            UpdateOnboardingFlowInput | None,
            strawberry.argument(description="Parameters for updateOnboardingFlow."),
        ] = None,
    ) -> UpdateOnboardingFlowPayload | None:
        ctx, actor = info.context, require_actor(info)
        outcome = await write(
            ctx, lambda s: service.update_flow(s, actor=actor, fields=typed(FlowChanges, input))
        )
        return UpdateOnboardingFlowPayload.answer(outcome, OnboardingFlow.from_row)
