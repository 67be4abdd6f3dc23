"""conversation, conversations, conversationMembership(s) and conversationMembershipsCount."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.conversations import queries
from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.conversations import filters as f
from carebook.graphql.conversations.types import Conversation, ConversationMembership
from carebook.graphql.lookup import id_argument, id_or_none, visible_row
from carebook.graphql.pagination import Cursor, page_of
from carebook.graphql.permissions import IsAuthenticated

DEFAULT_PAGE_SIZE = 20  # Healthie's default for conversationMemberships

Text = Annotated[str | None, strawberry.argument(description=f.ACCEPTED_HELP)]
Flag = Annotated[bool | None, strawberry.argument(description=f.ACCEPTED_HELP)]
Active = Annotated[str | None, strawberry.argument(description=f.ACTIVE_HELP)]
Client = Annotated[str | None, strawberry.argument(description=f.CLIENT_HELP)]
Kind = Annotated[str | None, strawberry.argument(description=f.TYPE_HELP)]
Keywords = Annotated[str | None, strawberry.argument(description=f.KEYWORDS_HELP)]
Provider = Annotated[strawberry.ID | None, strawberry.argument(description=f.PROVIDER_HELP)]
Providers = Annotated[
    list[strawberry.ID | None] | None, strawberry.argument(description=f.PROVIDERS_HELP)
]
Read = Annotated[str | None, strawberry.argument(description=f.READ_HELP)]


@strawberry.type
class ConversationQueries:
    """Reading conversations: a patient those they take part in, providers and staff those of
    their organization (conversations/queries.py)."""

    @strawberry.field(
        description="fetch a conversation by id; null when the caller may not see it.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def conversation(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The ID.")] = None,
    ) -> Conversation | None:
        row = await visible_row(info, id, queries.get_visible_conversation)
        return Conversation(row=row) if row else None

    @strawberry.field(
        description="Fetch current user's conversations, newest change first (at most 100). "
        "It is normally better to use the conversationMemberships query.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def conversations(
        self,
        info: Info[Context, None],
        user_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Get conversations between the current user and a given user."
            ),
        ] = None,
    ) -> list[Conversation] | None:
        actor = require_actor(info)
        other = id_argument(user_id, "user_id")
        rows = await info.context.read(
            lambda s: queries.list_shared_conversations(s, actor, with_user=other, limit=100)
        )
        return [Conversation(row=row) for row in rows]

    @strawberry.field(
        description="Fetch a conversation membership: by conversation_membership_id, or the "
        "owner's of the conversation id.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def conversationMembership(
        self,
        info: Info[Context, None],
        id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The id of the conversation, will return the membership object for "
                "the conversation owner."
            ),
        ] = None,
        conversation_membership_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The id of the conversation membership, must have access to the "
                "conversation to use."
            ),
        ] = None,
    ) -> ConversationMembership | None:
        if id_or_none(conversation_membership_id) is not None:
            row = await visible_row(
                info, conversation_membership_id, queries.get_visible_membership
            )
        else:
            row = await visible_row(info, id, queries.get_owner_membership)
        return ConversationMembership(row=row) if row else None

    @strawberry.field(
        description="Fetch paginated conversation memberships collection: the caller's (or "
        "provider_id's) memberships.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def conversationMemberships(
        self,
        info: Info[Context, None],
        active_status: Active = "active",
        client_id: Client = None,
        conversation_type: Kind = "all",
        keywords: Keywords = None,
        notes_type: Text = "inbox",
        only_include_shared_memberships: Flag = False,
        org_chat: Flag = False,
        provider_id: Provider = None,
        provider_ids: Providers = None,
        read_status: Read = "all",
        order_by: Annotated[
            f.MembershipOrderKeys | None, strawberry.argument(description="The order.")
        ] = f.MembershipOrderKeys.UPDATED_AT_DESC,
        offset: Annotated[int | None, strawberry.argument(description="How many to skip.")] = 0,
        page_size: Annotated[
            int | None, strawberry.argument(description="How many to return (Max 100).")
        ] = DEFAULT_PAGE_SIZE,
        after: Annotated[
            Cursor | None, strawberry.argument(description="Cursor to fetch results after.")
        ] = None,
    ) -> list[ConversationMembership] | None:
        actor = require_actor(info)
        page = page_of(
            offset=offset, page_size=page_size, after=after, default_size=DEFAULT_PAGE_SIZE
        )
        args = f.membership_filter(
            actor,
            active_status=active_status,
            client_id=client_id,
            conversation_type=conversation_type,
            keywords=keywords,
            provider_id=provider_id,
            provider_ids=provider_ids,
            read_status=read_status,
        )
        order = f.order_of(order_by)
        limit = page.limit(info.context.settings)
        rows = await info.context.read(
            lambda s: queries.list_memberships(
                s, actor, args, order=order, offset=page.offset, limit=limit
            )
        )
        return [ConversationMembership(row=r, position=p) for p, r in page.positioned(rows)]

    @strawberry.field(
        description="The number of conversation memberships conversationMemberships finds.",
        permission_classes=[IsAuthenticated],
    )
    async def conversationMembershipsCount(
        self,
        info: Info[Context, None],
        active_status: Active = "active",
        client_id: Client = None,
        conversation_type: Kind = "all",
        keywords: Keywords = None,
        only_include_shared_memberships: Flag = False,
        notes_type: Text = "inbox",
        org_chat: Flag = False,
        provider_id: Provider = None,
        provider_ids: Providers = None,
        read_status: Read = "all",
    ) -> int | None:
        actor = require_actor(info)
        args = f.membership_filter(
            actor,
            active_status=active_status,
            client_id=client_id,
            conversation_type=conversation_type,
            keywords=keywords,
            provider_id=provider_id,
            provider_ids=provider_ids,
            read_status=read_status,
        )
        return await info.context.read(lambda s: queries.count_memberships(s, actor, args))
