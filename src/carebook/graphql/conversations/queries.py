"""conversation(id)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.conversations import queries
from carebook.errors import Invalid
from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.conversations.types import Conversation
from carebook.graphql.permissions import IsAuthenticated
from carebook.users.validation import parse_id


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
        actor = require_actor(info)
        try:
            conversation_id = parse_id(id, "id")
        except Invalid:
            return None
        if conversation_id is None:
            return None
        row = await info.context.read(
            lambda s: queries.get_visible_conversation(s, actor, conversation_id)
        )
        return Conversation(row=row) if row else None
