"""The Note object: one chat message (Healthie's name for it)."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.conversations import queries
from carebook.conversations.note_models import Note as NoteRow
from carebook.conversations.note_queries import viewed_by
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.lookup import id_or_none
from carebook.graphql.pagination import Cursor, encode_cursor
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.times import render
from carebook.users.models import User as UserRow

VIEWER = "The member whose reading is asked; every member but the writer by default."


def _id(value: int | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(name="Note", description="A message in a conversation.")
class Note(DisclosesUsers):
    """Healthie's Note, without attachments, tasks and org chats (docs/api.md)."""

    row: strawberry.Private[NoteRow]
    # Where the note stands in the list that returned it (None outside lists).
    position: strawberry.Private[int | None] = None

    async def disclosed_users(self, info: Info[Context, None]) -> list[UserRow]:
        """A message is the data of the people of its conversation."""
        members: list[UserRow] = await info.context.loaders.conversation_members.load(
            self.row.conversation_id
        )
        return members

    @strawberry.field(description="The text of the message: HTML, sanitized.")
    def content(self) -> str | None:
        return self.row.content

    @strawberry.field(description="The ID of the conversation of the message.")
    def conversation_id(self) -> strawberry.ID | None:
        return _id(self.row.conversation_id)

    @strawberry.field(description="When the message was written (2023-06-05 14:10:00 +0200).")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="The writer of the message.")
    @audited
    async def creator(self, info: Info[Context, None]) -> LazyUser | None:
        if self.row.user_id is None:
            return None
        row = await info.context.loaders.user.load(self.row.user_id)
        return user_object(row, info.context.viewer) if row is not None else None

    @strawberry.field(description="This message's position in the list that returned it.")
    def cursor(self) -> Cursor:
        return Cursor(encode_cursor(self.position or 0))

    @strawberry.field(description="Whether the writer deleted the message (deleteNote).")
    def deleted_by_user(self) -> bool:
        return self.row.deleted_by_user

    @strawberry.field(description="The unique identifier of the message.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="Whether the message was sent automatically (never: false).")
    def is_autoresponse(self) -> bool:
        return False

    @strawberry.field(
        description="The other member of a conversation of two; null in a larger one.",
        deprecation_reason="Use conversation_memberships of conversation instead",
    )
    async def recipient_id(self, info: Info[Context, None]) -> strawberry.ID | None:
        receipts = await info.context.loaders.note_receipts.load(self.row.conversation_id)
        others = [uid for uid in receipts.last_read if uid != self.row.user_id]
        return _id(others[0]) if len(receipts.last_read) == 2 and len(others) == 1 else None

    @strawberry.field(
        description="When a scheduled message is (or was) due; null if sent at once or sent now."
    )
    def scheduled_at(self, info: Info[Context, None]) -> str | None:
        at = self.row.scheduled_at
        return None if at is None else render(at, info.context.zone)

    @strawberry.field(description="When the message last changed (2023-06-05 14:10:00 +0200).")
    def updated_at(self, info: Info[Context, None]) -> str:
        return render(self.row.updated_at, info.context.zone)

    @strawberry.field(description="The ID of the writer of the message.")
    def user_id(self) -> strawberry.ID | None:
        return _id(self.row.user_id)

    @strawberry.field(
        description="Whether the message was read, per message: by viewer_id, else by every "
        "member but the writer. A member has read it when they wrote it, or marked the "
        "conversation read or sent a message of their own after it came; a newer message never "
        "unreads it, and a member added later has read none of the history."
    )
    async def viewed(
        self,
        info: Info[Context, None],
        viewer_id: Annotated[strawberry.ID | None, strawberry.argument(description=VIEWER)] = None,
    ) -> bool | None:
        receipts = await info.context.loaders.note_receipts.load(self.row.conversation_id)
        wanted = id_or_none(viewer_id, "viewer_id")
        if wanted is not None and not await self._shows_reader(info, wanted):
            return None  # whether another patient read a message is theirs (docs/api.md)
        return viewed_by(self.row, receipts, wanted)

    async def _shows_reader(self, info: Info[Context, None], user_id: int) -> bool:
        """Whether the caller may learn ``user_id``'s reading (the memberships' rule)."""
        members = await info.context.loaders.conversation_members.load(self.row.conversation_id)
        patients = {user.id for user in members if user.is_patient}
        return queries.shows_membership(info.context.viewer, user_id, user_id in patients)
