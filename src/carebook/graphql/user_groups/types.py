"""The UserGroup and OnboardingFlow objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from carebook.graphql.audit.recording import audited
from carebook.graphql.context import Context
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.limits.rows import capped, check_nested
from carebook.graphql.lookup import id_argument
from carebook.graphql.pagination import Cursor, encode_cursor
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.times import render
from carebook.user_groups.models import OnboardingFlow as OnboardingFlowRow
from carebook.user_groups.models import UserGroup as UserGroupRow
from carebook.users.models import User as UserRow

if TYPE_CHECKING:
    from carebook.graphql.users.types import User
# UserGroup.users(active_status:): Healthie's "active"/"inactive", and the users list's "archived".
ACTIVE_STATUSES = {"active": True, "inactive": False, "archived": False}


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


def _users(rows: list[UserRow], info: Info[Context, None]) -> list[User]:
    return [user_object(row, info.context.viewer) for row in rows]


_LARGE = "list a large group with users(group_id: ...) and page_size"


def _active_filter(active_status: str | None) -> bool | None:
    text = (active_status or "").strip().lower()
    if not text:
        return None
    if text not in ACTIVE_STATUSES:
        raise CodedError("active_status must be 'active' or 'inactive'", BAD_USER_INPUT)
    return ACTIVE_STATUSES[text]


@strawberry.type(name="UserGroup", description="A user group, returns basic info about the group.")
class UserGroup:
    """Healthie's UserGroup: a group of patients inside an organization."""

    row: strawberry.Private[UserGroupRow]
    # Where the group stands in the list that returned it (None outside lists).
    position: strawberry.Private[int | None] = None

    @classmethod
    def from_row(cls, row: UserGroupRow, position: int | None = None) -> UserGroup:
        """Build from the ORM row."""
        return cls(row=row, position=position)

    @strawberry.field(description="The unique identifier of the user group.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The name of the user group.")
    def name(self) -> str | None:
        return self.row.name

    @strawberry.field(
        description="The invite code: a patient who signs up with it joins this group."
    )
    def invite_code(self) -> str | None:
        return self.row.invite_code

    @strawberry.field(
        description="The date the user group was created (2023-06-05 14:10:00 +0200)."
    )
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="Pagination cursor: pass it as `after` to continue after it.")
    def cursor(self) -> Cursor:
        return Cursor(encode_cursor(self.position or 0))

    @strawberry.field(
        description="The id of the onboarding flow that new patients of the group are asked "
        "to complete."
    )
    def onboarding_flow_id(self) -> str | None:
        return _id(self.row.onboarding_flow_id)

    @strawberry.field(
        description="Onboarding flow of this user group: what its new patients are asked to "
        "complete."
    )
    async def onboarding_flow(self, info: Info[Context, None]) -> OnboardingFlow | None:
        if self.row.onboarding_flow_id is None:
            return None
        row = await info.context.loaders.onboarding_flow.load(self.row.onboarding_flow_id)
        return OnboardingFlow.from_row(row) if row is not None else None

    @strawberry.field(
        description="The number of active patients in the group (a patient caller counts "
        "only themselves)."
    )
    async def users_count(self, info: Info[Context, None]) -> int | None:
        count: int = await info.context.loaders.group_users_count.load(self.row.id)
        return count

    @strawberry.field(
        description="Ids of the patients in the group, active and archived (at most "
        "CAREBOOK_NESTED_LIST_MAX_ROWS, as UserGroup.users)."
    )
    @capped("UserGroup.user_ids", _LARGE)
    async def user_ids(self, info: Info[Context, None]) -> list[str | None] | None:
        rows = await info.context.loaders.group_patients.load((self.row.id, None))
        return [str(row.id) for row in rows]

    @strawberry.field(
        description="All patients associated with this user group (at most "
        "CAREBOOK_NESTED_LIST_MAX_ROWS, 100: a larger group is refused; page through "
        "users(group_id:) instead)."
    )
    @audited
    @capped("UserGroup.users", _LARGE)
    async def users(
        self,
        info: Info[Context, None],
        active_status: Annotated[
            str | None,
            strawberry.argument(
                description='The active status of the users in the group. Can be "active" or '
                '"inactive" ("archived" also works); all patients when absent.'
            ),
        ] = None,
        convo_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the patients taking part in this conversation."),
        ] = None,
        should_sort: Annotated[
            bool | None,
            strawberry.argument(
                description="Sort the returned users by last name (then first name); "
                "false returns them in id order."
            ),
        ] = True,
    ) -> list[LazyUser]:
        active = _active_filter(active_status)
        key = (self.row.id, id_argument(convo_id, "convo_id"))
        rows: list[UserRow] = await info.context.loaders.group_patients.load(key)
        # Before filtering: the loader reads one row past the cap, so a longer group is refused
        # whatever the filter (a filtered list of a cut group would be silently short).
        check_nested(len(rows), info.context.settings, field="UserGroup.users", instead=_LARGE)
        if active is not None:
            rows = [row for row in rows if row.active == active]
        if should_sort is False:
            rows = sorted(rows, key=lambda row: row.id)
        return _users(rows, info)


@strawberry.type(
    name="OnboardingFlow",
    description="An onboarding flow: what the new patients of the groups using it are asked "
    "to complete.",
)
class OnboardingFlow:
    """Healthie's OnboardingFlow, as far as groups need it (Carebook has no forms yet)."""

    row: strawberry.Private[OnboardingFlowRow]
    position: strawberry.Private[int | None] = None

    @classmethod
    def from_row(cls, row: OnboardingFlowRow, position: int | None = None) -> OnboardingFlow:
        """Build from the ORM row."""
        return cls(row=row, position=position)

    @strawberry.field(description="The unique identifier of the flow.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The name of this onboarding flow.")
    def name(self) -> str | None:
        return self.row.name

    @strawberry.field(
        description="The date this onboarding flow was created (2023-06-05 14:10:00 +0200)."
    )
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="Pagination cursor: pass it as `after` to continue after it.")
    def cursor(self) -> Cursor:
        return Cursor(encode_cursor(self.position or 0))

    @strawberry.field(
        description="If true, the flow has more forms after welcome. Carebook flows hold no "
        "forms yet, so always false."
    )
    def has_forms_after_welcome(self) -> bool | None:
        return False

    @strawberry.field(
        description="True when the flow's organization has more than one active provider."
    )
    async def is_multiple_providers(self, info: Info[Context, None]) -> bool | None:
        count: int = await info.context.loaders.provider_count.load(self.row.organization_id)
        return count > 1

    @strawberry.field(description="The user groups this onboarding flow is associated with.")
    @capped("OnboardingFlow.user_groups", "list groups with userGroups and page_size")
    async def user_groups(self, info: Info[Context, None]) -> list[UserGroup] | None:
        rows = await info.context.loaders.flow_groups.load(self.row.id)
        return [UserGroup.from_row(row) for row in rows]

    @strawberry.field(
        description="The number of user groups this onboarding flow is associated with."
    )
    async def user_groups_count(self, info: Info[Context, None]) -> int | None:
        return len(await info.context.loaders.flow_groups.load(self.row.id))

    @strawberry.field(
        description="The combined name list of the user groups this onboarding flow is "
        "associated with, separated by commas."
    )
    async def user_groups_name_string(self, info: Info[Context, None]) -> str | None:
        rows = await info.context.loaders.flow_groups.load(self.row.id)
        return ", ".join(row.name for row in rows)
