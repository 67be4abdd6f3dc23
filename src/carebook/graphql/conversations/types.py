"""The Conversation and ConversationMembership objects (they refer to each other)."""

import strawberry
from strawberry.types import Info

from carebook.conversations import queries
from carebook.conversations.content import plain_text
from carebook.conversations.models import Conversation as ConversationRow
from carebook.conversations.models import ConversationMembership as MembershipRow
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import DisclosesUsers
from carebook.graphql.context import Context
from carebook.graphql.conversations.note_types import Note
from carebook.graphql.limits.rows import capped
from carebook.graphql.pagination import Cursor, encode_cursor
from carebook.graphql.users.ref import LazyUser, user_object
from carebook.times import render
from carebook.users.models import User as UserRow

FIRST_INVITEES = 4


def _id(value: int | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


def _name(row: UserRow) -> str:
    return f"{row.first_name} {row.last_name}".strip()


async def _members(info: Info[Context, None], conversation_id: int) -> list[UserRow]:
    members: list[UserRow] = await info.context.loaders.conversation_members.load(conversation_id)
    return members


async def _user(info: Info[Context, None], user_id: int | None) -> LazyUser | None:
    """A user the record names (owner, closer, creator), as the reader may see them."""
    if user_id is None:
        return None
    row = await info.context.loaders.user.load(user_id)
    return None if row is None else user_object(row, info.context.viewer)


@strawberry.type(name="Conversation", description="An association between conversation holders.")
class Conversation(DisclosesUsers):
    """Healthie's Conversation (its messages are the notes of the Note type)."""

    row: strawberry.Private[ConversationRow]

    async def disclosed_users(self, info: Info[Context, None]) -> list[UserRow]:
        """A conversation tells who takes part in it: its members' data."""
        return await _members(info, self.row.id)

    @strawberry.field(description="The user who closed the conversation.")
    @audited
    async def closed_by(self, info: Info[Context, None]) -> LazyUser | None:
        return await _user(info, self.row.closed_by_id)

    @strawberry.field(description="The date the conversation was closed.")
    def closed_date(self, info: Info[Context, None]) -> str | None:
        closed = self.row.closed_at
        return None if closed is None else render(closed, info.context.zone)

    @strawberry.field(
        description="All ConversationMemberships associated with this conversation (a patient "
        "sees their own and the practice's, not another patient's)."
    )
    @audited
    @capped(
        "Conversation.conversation_memberships",
        "page through conversationMemberships(...) instead",
    )
    async def conversation_memberships(
        self, info: Info[Context, None]
    ) -> "list[ConversationMembership]":
        rows = await info.context.loaders.conversation_memberships.load(self.row.id)
        patients = {user.id for user in await _members(info, self.row.id) if user.is_patient}
        viewer = info.context.viewer
        return [
            ConversationMembership(row=row)
            for row in rows
            if queries.shows_membership(viewer, row.user_id, row.user_id in patients)
        ]

    @strawberry.field(description="The number of users in the conversation.")
    async def conversation_memberships_count(self, info: Info[Context, None]) -> int | None:
        return len(await info.context.loaders.conversation_memberships.load(self.row.id))

    @strawberry.field(description="The time the Conversation was created.")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="The conversation membership for the current user.")
    @audited
    async def current_user_conversation_membership(
        self, info: Info[Context, None]
    ) -> "ConversationMembership | None":
        viewer = info.context.viewer
        rows = await info.context.loaders.conversation_memberships.load(self.row.id)
        mine = [row for row in rows if viewer is not None and row.user_id == viewer.user_id]
        return ConversationMembership(row=mine[0]) if mine else None

    @strawberry.field(description="ID of dietitian (the owner of the conversation).")
    def dietitian_id(self) -> strawberry.ID | None:
        return _id(self.row.owner_id)

    @strawberry.field(description="first four invitees to the conversation.")
    @audited
    async def first_four_invitees(self, info: Info[Context, None]) -> list[LazyUser] | None:
        return (await self._invitees(info))[:FIRST_INVITEES]

    @strawberry.field(description="The unique identifier of the conversation.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="Whether the conversation includes multiple clients.")
    async def includes_multiple_clients(self, info: Info[Context, None]) -> bool | None:
        members = await _members(info, self.row.id)
        return sum(1 for row in members if row.is_patient) > 1

    @strawberry.field(description="The invitees to the conversation (its members but the owner).")
    @audited
    @capped("Conversation.invitees", "list members with users(conversation_id: ...) and page_size")
    async def invitees(self, info: Info[Context, None]) -> list[LazyUser] | None:
        return await self._invitees(info)

    @strawberry.field(
        description="Whether the conversation is hidden for the client (never in Carebook)."
    )
    def is_hidden_for_client(self) -> bool | None:
        return False

    @strawberry.field(description="The subject of conversation.")
    def name(self) -> str | None:
        return self.row.name

    @strawberry.field(description="The owner of the conversation.")
    @audited
    async def owner(self, info: Info[Context, None]) -> LazyUser | None:
        return await _user(info, self.row.owner_id)

    @strawberry.field(description="The ID of the user who created the conversation.")
    def owner_id(self) -> strawberry.ID | None:
        return _id(self.row.owner_id)

    @strawberry.field(description="The ID of the client the conversation is about.")
    def patient_id(self) -> strawberry.ID | None:
        return _id(self.row.patient_id)

    @strawberry.field(description="The time the conversation last changed.")
    def updated_at(self, info: Info[Context, None]) -> str:
        return render(self.row.updated_at, info.context.zone)

    @strawberry.field(description="Every member of the conversation, by id.")
    @audited
    @capped("Conversation.users", "list members with users(conversation_id: ...) and page_size")
    async def users(self, info: Info[Context, None]) -> list[LazyUser] | None:
        # Nullable (as Healthie's invitees): a refused list nulls this field, not its parents.
        rows = await _members(info, self.row.id)
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

    async def _invitees(self, info: Info[Context, None]) -> list[LazyUser]:
        rows = await _members(info, self.row.id)
        viewer = info.context.viewer
        return [user_object(row, viewer) for row in rows if row.id != self.row.owner_id]


@strawberry.type(
    name="ConversationMembership", description="A user's membership in a conversation."
)
class ConversationMembership(DisclosesUsers):
    """Healthie's ConversationMembership: one member's view of a conversation."""

    row: strawberry.Private[MembershipRow]
    # Where the membership stands in the list that returned it (None outside lists).
    position: strawberry.Private[int | None] = None

    async def disclosed_users(self, info: Info[Context, None]) -> list[UserRow]:
        """A membership shows its conversation and who else takes part in it."""
        return await _members(info, self.row.conversation_id)

    async def _others(self, info: Info[Context, None]) -> list[UserRow]:
        members = await _members(info, self.row.conversation_id)
        return [row for row in members if row.id != self.row.user_id]

    async def _conversation(self, info: Info[Context, None]) -> ConversationRow | None:
        row: ConversationRow | None = await info.context.loaders.conversation.load(
            self.row.conversation_id
        )
        return row

    @strawberry.field(description="Toggle for archive status.")
    def archived(self) -> bool:
        return self.row.archived

    @strawberry.field(description="Conversation id of conversation membership.")
    def conversation_id(self) -> strawberry.ID | None:
        return _id(self.row.conversation_id)

    @strawberry.field(description="Conversation linked to this membership.")
    @audited
    async def convo(self, info: Info[Context, None]) -> Conversation | None:
        row = await self._conversation(info)
        return None if row is None else Conversation(row=row)

    @strawberry.field(description="The date the Conversation Membership was created.")
    def created_at(self, info: Info[Context, None]) -> str:
        return render(self.row.created_at, info.context.zone)

    @strawberry.field(description="The creator of this ConversationMembership.")
    @audited
    async def creator(self, info: Info[Context, None]) -> LazyUser | None:
        return await _user(info, self.row.creator_id)

    @strawberry.field(description="Pagination cursor.")
    def cursor(self) -> Cursor:
        return Cursor(encode_cursor(self.position or 0))

    @strawberry.field(description="The conversation's name, else the names of the other members.")
    async def display_name(self, info: Info[Context, None]) -> str | None:
        conversation = await self._conversation(info)
        if conversation is not None and conversation.name:
            return conversation.name
        return ", ".join(_name(row) for row in await self._others(info)) or None

    @strawberry.field(
        description="Display the other user first name for non group convos (null for groups)."
    )
    async def display_other_user_first_name(self, info: Info[Context, None]) -> str | None:
        others = await self._others(info)
        return others[0].first_name if len(others) == 1 else None

    @strawberry.field(description="Display title or other user name for non group convos.")
    async def display_other_user_name(self, info: Info[Context, None]) -> str | None:
        others = await self._others(info)
        if len(others) == 1:
            return _name(others[0])
        conversation = await self._conversation(info)
        return None if conversation is None else conversation.name

    @strawberry.field(description="The unique identifier of the membership.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="The time the membership last changed.")
    def updated_at(self, info: Info[Context, None]) -> str:
        return render(self.row.updated_at, info.context.zone)

    @strawberry.field(description="The ID of the member.")
    def user_id(self) -> strawberry.ID | None:
        return _id(self.row.user_id)

    @strawberry.field(description="Whether the member has seen the latest message.")
    def viewed(self) -> bool:
        return self.row.viewed
