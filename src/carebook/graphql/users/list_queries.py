"""Root fields of the patient list: ``users`` and ``usersCount``."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook import search
from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.limits.rows import check_cap, unpaginated_fetch_limit
from carebook.graphql.lookup import id_argument
from carebook.graphql.pagination import Cursor, page_of
from carebook.graphql.permissions import IsStaff
from carebook.graphql.users.columns import selected_columns
from carebook.graphql.users.types import User


@strawberry.enum(name="UserOrderKeys", description="Sort orders of the patient list.")
class UserOrderKeys(Enum):
    """Healthie's UserOrderKeys; the seed's sort_by strings are these, lower-cased."""

    EMAIL_ASC = "email_asc"
    EMAIL_DESC = "email_desc"
    FIRST_NAME_ASC = "first_name_asc"
    FIRST_NAME_DESC = "first_name_desc"
    LAST_NAME_DESC = "last_name_desc"
    LAST_NAME_ASC = "last_name_asc"
    CREATED_AT_DESC = "created_at_desc"
    CREATED_AT_ASC = "created_at_asc"
    UPDATED_AT_DESC = "updated_at_desc"
    UPDATED_AT_ASC = "updated_at_asc"
    GROUP_NAME_ASC = "group_name_asc"
    GROUP_NAME_DESC = "group_name_desc"
    PROVIDER_NAME_ASC = "provider_name_asc"
    PROVIDER_NAME_DESC = "provider_name_desc"
    NEXT_APPT_DATE_ASC = "next_appt_date_asc"
    NEXT_APPT_DATE_DESC = "next_appt_date_desc"


# The filters users and usersCount share, declared once so both always take the same ones.
ActiveStatus = Annotated[
    str | None, strawberry.argument(description="Possible options: [active, archived].")
]
ConversationId = Annotated[
    strawberry.ID | None, strawberry.argument(description="Only patients in this conversation.")
]
ConvoPatientsOnly = Annotated[
    bool | None, strawberry.argument(description="Accepted; the list only ever holds patients.")
]
ExpectConversationId = Annotated[
    bool | None,
    strawberry.argument(description="When true but conversation_id is null, nothing matches."),
]
GroupId = Annotated[
    str | None, strawberry.argument(description="Only patients in this user group.")
]
HasCardOnFile = Annotated[
    bool | None,
    strawberry.argument(
        description="When true, only clients with a card on file (Carebook stores none). "
        "Passing false does nothing."
    ),
]
Keywords = Annotated[
    str | None,
    strawberry.argument(
        description="Search terms separated by spaces; every term must match (docs/search.md)."
    ),
]
LimitedToProvider = Annotated[
    bool | None,
    strawberry.argument(
        description="When true, only patients with the provider (provider_id or the caller) "
        "on their care team."
    ),
]
ProviderId = Annotated[
    str | None,
    strawberry.argument(
        description="Defaults to the caller: only patients this provider has access to."
    ),
]
TagIds = Annotated[
    list[strawberry.ID | None] | None,
    strawberry.argument(
        description="When passed in, only clients with at least ONE of the passed-in tags."
    ),
]


def _ids(values: list[strawberry.ID | None] | None, name: str) -> list[int] | None:
    if values is None:
        return None
    return [i for v in values if (i := id_argument(v, name)) is not None]


def _args(
    *,
    keywords: str | None,
    active_status: str | None,
    group_id: str | None,
    provider_id: str | None,
    limited_to_provider: bool | None,
    conversation_id: strawberry.ID | None,
    expect_conversation_id: bool | None,
    show_all_by_default: bool | None = True,
    ids: list[strawberry.ID | None] | None = None,
    has_cc_on_file: bool | None = None,
    tag_ids: list[strawberry.ID | None] | None = None,
    sort: str = "last_name_desc",
    offset: int = 0,
    limit: int | None = None,
    whole_list_rows: int | None = None,
    columns: tuple[str, ...] | None = None,
) -> search.ListArgs:
    try:
        return search.ListArgs(
            keywords=keywords,
            active_status=active_status or None,
            group_id=id_argument(group_id, "group_id"),
            provider_id=id_argument(provider_id, "provider_id"),
            limited_to_provider=bool(limited_to_provider),
            conversation_id=id_argument(conversation_id, "conversation_id"),
            expect_conversation_id=bool(expect_conversation_id),
            show_all_by_default=show_all_by_default is not False,
            ids=_ids(ids, "ids"),
            only_with_card=bool(has_cc_on_file),
            tag_ids=_ids(tag_ids, "tag_ids") or (),
            sort=sort,
            offset=offset,
            limit=limit,
            whole_list_rows=whole_list_rows,
            columns=columns,
        )
    except search.ListArgumentError as error:
        raise CodedError(str(error), BAD_USER_INPUT) from None


@strawberry.type
class UserListQueries:
    """The patient list and its count; both take the same filters."""

    @strawberry.field(
        description="Fetch paginated patients collection. Offset (offset + page_size) and cursor "
        "(after) pagination both work; should_paginate: false returns the whole list.",
        permission_classes=[IsStaff],
    )
    @audited
    async def users(
        self,
        info: Info[Context, None],
        after: Annotated[
            Cursor | None, strawberry.argument(description="Cursor to fetch results after.")
        ] = None,
        active_status: ActiveStatus = None,
        conversation_id: ConversationId = None,
        convo_patients_only: ConvoPatientsOnly = False,
        expect_conversation_id: ExpectConversationId = False,
        group_id: GroupId = None,
        has_cc_on_file: HasCardOnFile = None,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this patient.")
        ] = None,
        ids: Annotated[
            list[strawberry.ID | None] | None,
            strawberry.argument(description="Only these patients."),
        ] = None,
        keywords: Keywords = None,
        limited_to_provider: LimitedToProvider = False,
        offset: Annotated[
            int | None, strawberry.argument(description="How many patients to skip.")
        ] = 0,
        page_size: Annotated[
            int | None, strawberry.argument(description="The number of users to return (Max 100).")
        ] = 10,
        provider_id: ProviderId = None,
        should_paginate: Annotated[
            bool | None, strawberry.argument(description="When false, the whole list is returned.")
        ] = True,
        show_all_by_default: Annotated[
            bool | None,
            strawberry.argument(
                description="When false, nothing is returned unless keywords are given."
            ),
        ] = True,
        tag_ids: TagIds = None,
        order_by: Annotated[
            UserOrderKeys | None,
            strawberry.argument(description="Sort order; takes precedence over sort_by."),
        ] = None,
        sort_by: Annotated[
            str | None,
            strawberry.argument(
                description="Sort order as a lower-case string (e.g. last_name_desc), "
                "as in Healthie's older documents."
            ),
        ] = "last_name_desc",
    ) -> list[User] | None:
        actor, state = require_actor(info), info.context.search
        page = page_of(
            offset=offset, page_size=page_size, paginate=should_paginate is not False, after=after
        )
        # `id` narrows to one patient; _args parses the ids (once).
        wanted: list[strawberry.ID | None] | None = [id] if id is not None else ids
        args = _args(
            keywords=keywords,
            active_status=active_status,
            group_id=group_id,
            provider_id=provider_id,
            limited_to_provider=limited_to_provider,
            conversation_id=conversation_id,
            expect_conversation_id=expect_conversation_id,
            show_all_by_default=show_all_by_default,
            ids=wanted,
            has_cc_on_file=has_cc_on_file,
            tag_ids=tag_ids or None,
            sort=order_by.value if order_by else (sort_by or "last_name_desc").strip().lower(),
            offset=page.offset,
            limit=page.size,
            whole_list_rows=unpaginated_fetch_limit(info.context.settings),
            columns=selected_columns(info),
        )
        if page.size is None:
            # Counted first (ids only, one past the cap): refusing reads no patient row.
            most = unpaginated_fetch_limit(info.context.settings)
            found = await info.context.read(
                lambda s: search.count(s, actor, args, state, most=most), may_lag=True
            )
            check_cap(found, info.context.settings, what="patients")
        # The patient list may lag the latest writes (docs/production.md, Read replica).
        rows = await info.context.read(lambda s: search.page(s, actor, args, state), may_lag=True)
        return [
            User(row=row, position=position, viewer=info.context.viewer)
            for position, row in page.positioned(rows)
        ]

    @strawberry.field(
        description="Number of users: the count of what users lists for the same filters.",
        permission_classes=[IsStaff],
    )
    async def usersCount(
        self,
        info: Info[Context, None],
        active_status: ActiveStatus = None,
        conversation_id: ConversationId = None,
        convo_patients_only: ConvoPatientsOnly = False,
        expect_conversation_id: ExpectConversationId = False,
        group_id: GroupId = None,
        has_cc_on_file: HasCardOnFile = None,
        keywords: Keywords = None,
        limited_to_provider: LimitedToProvider = False,
        provider_id: ProviderId = None,
        tag_ids: TagIds = None,
    ) -> int | None:
        actor = require_actor(info)
        args = _args(
            keywords=keywords,
            active_status=active_status,
            group_id=group_id,
            provider_id=provider_id,
            limited_to_provider=limited_to_provider,
            conversation_id=conversation_id,
            expect_conversation_id=expect_conversation_id,
            has_cc_on_file=has_cc_on_file,
            tag_ids=tag_ids,
        )
        state = info.context.search
        return await info.context.read(lambda s: search.count(s, actor, args, state), may_lag=True)
