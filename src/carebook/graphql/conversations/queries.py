"""conversation(id)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.conversations import queries
from carebook.graphql.audit.recording import audited
from carebook.graphql.context import Context
from carebook.graphql.conversations.types import Conversation
from carebook.graphql.lookup import visible_row
from carebook.graphql.permissions import IsAuthenticated


@strawberry.type
class ConversationQueries:
    """Reading conversations."""

    @strawberry.field(
        description="Fetch a conversation by id; null when the caller may not see it.",
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
