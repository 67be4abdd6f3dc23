"""Inputs of the group and onboarding-flow mutations, with Healthie's names and types."""

import strawberry

from carebook.graphql.inputs import opt

GROUPS_TO_USE = (
    'A comma-separated list of user group ids ("1,2,3"): exactly these groups use the flow '
    '(groups that used it and are not listed stop using it; "" detaches every group).'
)


@strawberry.input(name="createGroupInput", description="Parameters for createGroup.")
class CreateGroupInput:
    """A new user group."""

    name: str | None = opt("Required. The name of the group; unique in the organization.")


@strawberry.input(name="updateUserGroupInput", description="Parameters for updateUserGroup.")
class UpdateUserGroupInput:
    """Changes to a user group."""

    id: strawberry.ID | None = opt("Required. The ID of the group that will be updated.")
    name: str | None = opt("A new name; unique in the organization (ignoring case).")
    onboarding_flow_id: strawberry.ID | None = opt(
        'The ID of the Onboarding Flow that patients in the group will be asked to fill out; "" '
        "detaches the flow."
    )


@strawberry.input(name="deleteUserGroupInput", description="Parameters for deleteUserGroup.")
class DeleteUserGroupInput:
    """A user group to delete, and where its patients go."""

    group_to_receive_clients: strawberry.ID | None = opt(
        "The ID of a group to transfer all patients of the deleted group to. When left blank, "
        "patients are not placed into any group."
    )
    id: strawberry.ID | None = opt("Required. The ID of the group to delete.")


@strawberry.input(
    name="createOnboardingFlowInput", description="Parameters for createOnboardingFlow."
)
class CreateOnboardingFlowInput:
    """A new onboarding flow."""

    groups_to_use_onboarding_flow: str | None = opt(GROUPS_TO_USE)
    name: str | None = opt("Required. Onboarding Flow name.")


@strawberry.input(
    name="updateOnboardingFlowInput", description="Parameters for updateOnboardingFlow."
)
class UpdateOnboardingFlowInput:
    """Changes to an onboarding flow."""

    groups_to_use_onboarding_flow: str | None = opt(GROUPS_TO_USE)
    id: strawberry.ID | None = opt("Required. The ID of the Onboarding Flow to update.")
    name: str | None = opt("A new name for the Onboarding Flow.")
