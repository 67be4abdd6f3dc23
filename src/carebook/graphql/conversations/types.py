"""The Conversation object."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from carebook.conversations.content import plain_text
from carebook.conversations.models import Conversation as ConversationRow
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.conversations.note_types import Note
from carebook.graphql.limits.rows import capped
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.times import render
from carebook.users.models import User as UserRow


@strawberry.type(name="Conversation", description="A conversation between users.")
class Conversation(DisclosesUsers):
    """Healthie's Conversation: its owner and members."""

    row: strawberry.Private[ConversationRow]

    async def disclosed_users(self, info: Info[Context, None]) -> list[UserRow]:
        """A conversation tells who takes part in it: its members' data."""
        members: list[UserRow] = await info.context.loaders.conversation_members.load(self.row.id)
        return members

    @strawberry.field(description="The unique identifier of the conversation.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The name of the conversation.")
    def name(self) -> str | None:
        return self.row.name

    @strawberry.field(description="The ID of the user who created the conversation.")
    def owner_id(self) -> strawberry.ID | None:
        return None if self.row.owner_id is None else strawberry.ID(str(self.row.owner_id))

    @strawberry.field(description="When the conversation was created (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="Every member of the conversation, by id.")
    @audited
    @capped("Conversation.users", "list members with users(conversation_id: ...) and page_size")
    async def users(self, info: Info[Context, None]) -> list[LazyUser] | None:
        # Nullable (as Healthie's invitees): a refused list nulls this field, not its parents.
        rows = await info.context.loaders.conversation_members.load(self.row.id)
        return [user_object(row, info.context.viewer) for row in rows]

    @strawberry.field(description="All notes associated with this conversation, oldest first.")
    @audited
    @capped("Conversation.notes", "page through notes(conversation_id: ...) instead")
    async def notes(self, info: Info[Context, None]) -> list[Note]:
        rows = await info.context.loaders.conversation_notes.load(self.row.id)
        return [Note(row=row) for row in rows]

    @strawberry.field(description="The content of the last note, with HTML stripped")
    async def last_message_content(self, info: Info[Context, None]) -> str | None:
        note = await info.context.loaders.last_note.load(self.row.id)
        return None if note is None else plain_text(note.content)
