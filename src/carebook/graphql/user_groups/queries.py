"""Root query fields of groups and onboarding flows: userGroup, userGroups, userGroupsCount,
onboardingFlow, onboardingFlows, onboardingFlowsCount."""

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.auth.actor import Actor
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.lookup import id_or_none, visible_row
from carebook.graphql.pagination import Cursor, Page, page_of
from carebook.graphql.permissions import IsAuthenticated, IsStaff
from carebook.graphql.user_groups.types import OnboardingFlow, UserGroup
from carebook.user_groups import queries
from carebook.user_groups.models import OnboardingFlow as OnboardingFlowRow
from carebook.users.list_limits import ListArgumentError


@strawberry.enum(name="UserGroupOrderKeys", description="UserGroup sorting enum.")
class UserGroupOrderKeys(Enum):
    """Healthie's UserGroupOrderKeys; the seed's sort_by strings map onto them."""

    INVITE_CODE_ASC = "invite_code_asc"
    INVITE_CODE_DESC = "invite_code_desc"
    CREATED_AT_ASC = "created_at_asc"
    CREATED_AT_DESC = "created_at_desc"
    NAME_ASC = "name_asc"
    NAME_DESC = "name_desc"
    USERS_COUNT_ASC = "users_count_asc"
    USERS_COUNT_DESC = "users_count_desc"


@strawberry.enum(name="OnboardingFlowOrderKeys", description="OnboardingFlow sorting enum.")
class OnboardingFlowOrderKeys(Enum):
    """Healthie's OnboardingFlowOrderKeys. Flows hold no forms in Carebook: FORMS_COUNT_* sort
    by id."""

    CREATED_AT_ASC = "created_at_asc"
    CREATED_AT_DESC = "created_at_desc"
    NAME_ASC = "name_asc"
    NAME_DESC = "name_desc"
    FORMS_COUNT_ASC = "forms_count_asc"
    FORMS_COUNT_DESC = "forms_count_desc"


def _list_args(
    *,
    keywords: str | None,
    order_by: Enum | None,
    sort_by: str | None,
    sorts: Sequence[str],
    aliases: Mapping[str, str],
    page: Page,
) -> queries.ListArgs:
    """The list's arguments. order_by wins over sort_by, as in the project's other lists."""
    sort = str(order_by.value) if order_by is not None else (sort_by or "").strip() or "name"
    try:
        return queries.ListArgs(
            keywords=keywords,
            sort=queries.canonical_sort(sort, sorts, aliases),
            offset=page.offset,
            limit=page.size,
        )
    except ListArgumentError as error:
        raise CodedError(str(error), BAD_USER_INPUT) from None


async def _flow_for(
    info: Info[Context, None], actor: Actor, flow_id: int | None, user_id: int | None
) -> OnboardingFlowRow | None:
    """Staff: the flow by id, else the flow of the patient user_id. Patients: their own flow."""
    if actor.is_patient:
        own = await info.context.read(lambda s: queries.flow_of_patient(s, actor, actor.user_id))
        return own if own is not None and flow_id in (None, own.id) else None
    if flow_id is not None:
        return await info.context.read(
            lambda s: queries.get_flow_in_org(s, actor.organization_id, flow_id)
        )
    if user_id is not None:
        return await info.context.read(lambda s: queries.flow_of_patient(s, actor, user_id))
    return None


KEYWORDS = "A term to search by: every word must appear in the name (ignoring case)."
OFFSET = "How many items to skip (after `after`, when both are given)."
AFTER = "Cursor to fetch results after."
PAGE_SIZE = "The number of items per page when should_paginate is true (1 to 100)."
ORDER_BY = "Sort order (NAME_ASC when neither this nor sort_by is given); wins over sort_by."
GROUP_LEVEL = "Accepted for compatibility; Carebook has no group-level permissions, so no effect."


@strawberry.type
class UserGroupQueries:
    """Reading groups and onboarding flows."""

    @strawberry.field(
        description="Fetch a user group by id. A group of another organization, an unknown id "
        "and a malformed id all answer null.",
        permission_classes=[IsStaff],
    )
    async def userGroup(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Required. The group's ID.")
        ] = None,
    ) -> UserGroup | None:
        row = await visible_row(info, id, queries.get_visible_group)
        return UserGroup.from_row(row) if row is not None else None

    @strawberry.field(
        description="Fetch the organization's user groups, sorted (by name by default). Not "
        "paginated unless should_paginate is true; offset and after apply either way.",
        permission_classes=[IsStaff],
    )
    async def userGroups(
        self,
        info: Info[Context, None],
        after: Annotated[Cursor | None, strawberry.argument(description=AFTER)] = None,
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
        offset: Annotated[int | None, strawberry.argument(description=OFFSET)] = 0,
        should_paginate: Annotated[
            bool | None,
            strawberry.argument(description="When true, the returned list is paginated."),
        ] = False,
        order_by: Annotated[
            UserGroupOrderKeys | None, strawberry.argument(description=ORDER_BY)
        ] = None,
        page_size: Annotated[int | None, strawberry.argument(description=PAGE_SIZE)] = 10,
        check_group_level_actions: Annotated[
            bool | None, strawberry.argument(description=GROUP_LEVEL)
        ] = False,
        sort_by: Annotated[
            str | None,
            strawberry.argument(
                description="Sort order as in Healthie's older documents: name (the default), "
                "invite_code, created_at_asc, created_at_desc, group_name_asc, group_name_desc, "
                "users_count_asc, users_count_desc (or any UserGroupOrderKeys value, "
                "lower-cased)."
            ),
        ] = None,
    ) -> list[UserGroup] | None:
        actor = require_actor(info)
        page = page_of(offset=offset, page_size=page_size, paginate=should_paginate, after=after)
        args = _list_args(
            keywords=keywords,
            order_by=order_by,
            sort_by=sort_by,
            sorts=queries.GROUP_SORTS,
            aliases=queries.GROUP_SORT_ALIASES,
            page=page,
        )
        rows = await info.context.read(lambda s: queries.list_groups(s, actor, args))
        # A whole list is read whole: an organization's groups are few, so counted once read.
        page.check_whole(len(rows), info.context.settings, what="groups")
        return [UserGroup.from_row(row, position) for position, row in page.positioned(rows)]

    @strawberry.field(
        description="Number of user groups matching keywords.", permission_classes=[IsStaff]
    )
    async def userGroupsCount(
        self,
        info: Info[Context, None],
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
        check_group_level_actions: Annotated[
            bool | None, strawberry.argument(description=GROUP_LEVEL)
        ] = False,
    ) -> int | None:
        actor = require_actor(info)
        return await info.context.read(lambda s: queries.count_groups(s, actor, keywords))

    @strawberry.field(
        description="Fetch an onboarding flow by id, or the flow of a patient (the one their "
        "group asks new patients to complete). A patient gets their own flow.",
        permission_classes=[IsAuthenticated],
    )
    async def onboardingFlow(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="ID of the flow. Either this or user_id is needed."),
        ] = None,
        user_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="A patient's ID: their group's flow. Ignored for patient callers."
            ),
        ] = None,
        uuid: Annotated[
            str | None,
            strawberry.argument(
                description="Accepted for compatibility; Carebook flows have no uuid, so a "
                "uuid alone answers null."
            ),
        ] = None,
    ) -> OnboardingFlow | None:
        actor = require_actor(info)
        flow_id, patient_id = id_or_none(id), id_or_none(user_id, "user_id")
        if id is not None and flow_id is None:
            return None  # a malformed id answers like a missing flow
        row = await _flow_for(info, actor, flow_id, patient_id)
        return OnboardingFlow.from_row(row) if row is not None else None

    @strawberry.field(
        description="Fetch the organization's onboarding flows, sorted (by name by default).",
        permission_classes=[IsStaff],
    )
    async def onboardingFlows(
        self,
        info: Info[Context, None],
        after: Annotated[Cursor | None, strawberry.argument(description=AFTER)] = None,
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
        offset: Annotated[int | None, strawberry.argument(description=OFFSET)] = 0,
        should_paginate: Annotated[
            bool | None,
            strawberry.argument(description="When true, the returned list is paginated."),
        ] = True,
        page_size: Annotated[int | None, strawberry.argument(description=PAGE_SIZE)] = 10,
        order_by: Annotated[
            OnboardingFlowOrderKeys | None, strawberry.argument(description=ORDER_BY)
        ] = None,
        sort_by: Annotated[
            str | None,
            strawberry.argument(
                description="Sort order as in Healthie's guide: onboarding_flow_name_asc (the "
                "default), onboarding_flow_name_desc, created_at_asc, created_at_desc, "
                "forms_count_asc, forms_count_desc."
            ),
        ] = None,
    ) -> list[OnboardingFlow] | None:
        actor = require_actor(info)
        page = page_of(
            offset=offset, page_size=page_size, paginate=should_paginate is not False, after=after
        )
        args = _list_args(
            keywords=keywords,
            order_by=order_by,
            sort_by=sort_by,
            sorts=queries.FLOW_SORTS,
            aliases=queries.FLOW_SORT_ALIASES,
            page=page,
        )
        rows = await info.context.read(lambda s: queries.list_flows(s, actor.organization_id, args))
        page.check_whole(len(rows), info.context.settings, what="onboarding flows")
        return [OnboardingFlow.from_row(row, position) for position, row in page.positioned(rows)]

    @strawberry.field(
        description="Number of onboarding flows matching keywords.", permission_classes=[IsStaff]
    )
    async def onboardingFlowsCount(
        self,
        info: Info[Context, None],
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
        offset: Annotated[
            int | None,
            strawberry.argument(description="Accepted for compatibility; has no effect."),
        ] = 0,
    ) -> int | None:
        actor = require_actor(info)
        return await info.context.read(
            lambda s: queries.count_flows(s, actor.organization_id, keywords)
        )
