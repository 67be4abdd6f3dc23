"""Root query fields of messages: note, notes, notesCount."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from carebook.conversations import note_queries
from carebook.conversations.note_inputs import NoteFilter, NoteOrder
from carebook.graphql.audit.recording import audited
from carebook.graphql.common import require_actor
from carebook.graphql.context import Context
from carebook.graphql.conversations.note_types import Note
from carebook.graphql.lookup import id_argument, visible_row
from carebook.graphql.pagination import Cursor, page_of
from carebook.graphql.permissions import IsAuthenticated


@strawberry.enum(name="NoteOrderKeys", description="The orders of notes.")
class NoteOrderKeys(Enum):
    """Healthie's NoteOrderKeys."""

    CREATED_AT_ASC = "CREATED_AT_ASC"
    CREATED_AT_DESC = "CREATED_AT_DESC"


CONVERSATION = "The conversation whose messages to read; every visible one when left out."
KEYWORDS = "Search terms separated by spaces; each must appear in the message."
ORG_CHAT = "If TRUE: get base user as a conversation owner. Accepted; Carebook has no org chats."
PROVIDER = "Accepted with org_chat; Carebook has no org chats, so it changes nothing."
SCHEDULED = "If TRUE: only scheduled messages not sent yet (the caller's own)."
WITH_TASKS = "If TRUE: get notes with tasks (Carebook has no tasks: an empty list)."


def _filter(
    conversation_id: str | None,
    keywords: str | None,
    scheduled_notes: bool | None,
    *,
    ids: list[strawberry.ID | None] | None = None,
    since_note_id: str | None = None,
    with_tasks: bool | None = False,
    order_by: NoteOrderKeys | None = None,
) -> NoteFilter:
    wanted_ids = None
    if ids is not None:
        wanted_ids = tuple(i for i in (id_argument(raw, "ids") for raw in ids) if i is not None)
    return NoteFilter(
        conversation_id=id_argument(conversation_id, "conversation_id"),
        ids=wanted_ids,
        keywords=keywords,
        since_note_id=id_argument(since_note_id, "since_note_id"),
        scheduled=bool(scheduled_notes),
        nothing=bool(with_tasks),
        order=NoteOrder(order_by.value) if order_by else NoteOrder.CREATED_AT_DESC,
    )


@strawberry.type
class NoteQueries:
    """Reading messages: those of the conversations the caller may see."""

    @strawberry.field(
        description="fetch a note by id; null when the caller may not see it or it is deleted.",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def note(
        self,
        info: Info[Context, None],
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The ID.")] = None,
    ) -> Note | None:
        row = await visible_row(info, id, note_queries.get_visible_note)
        return Note(row=row) if row is not None else None

    @strawberry.field(
        description="Fetch paginated note collection for given conversation (newest first by "
        "default; offset + page_size, or after a cursor).",
        permission_classes=[IsAuthenticated],
    )
    @audited
    async def notes(
        self,
        info: Info[Context, None],
        conversation_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=CONVERSATION)
        ] = None,
        ids: Annotated[
            list[strawberry.ID | None] | None,
            strawberry.argument(description="Only the messages of these ids."),
        ] = None,
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
        org_chat: Annotated[bool | None, strawberry.argument(description=ORG_CHAT)] = False,
        provider_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=PROVIDER)
        ] = None,
        scheduled_notes: Annotated[bool | None, strawberry.argument(description=SCHEDULED)] = False,
        since_note_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only the messages after this one: larger ids, or sent after it."
            ),
        ] = None,
        order_by: Annotated[
            NoteOrderKeys | None, strawberry.argument(description="The order of the messages.")
        ] = NoteOrderKeys.CREATED_AT_DESC,
        with_tasks: Annotated[bool | None, strawberry.argument(description=WITH_TASKS)] = False,
        offset: Annotated[
            int | None, strawberry.argument(description="How many messages to skip.")
        ] = 0,
        page_size: Annotated[
            int | None, strawberry.argument(description="The number of messages (Max 100).")
        ] = 10,
        after: Annotated[
            Cursor | None, strawberry.argument(description="Cursor to fetch results after")
        ] = None,
    ) -> list[Note] | None:
        actor = require_actor(info)
        page = page_of(offset=offset, page_size=page_size, after=after)
        wanted = _filter(
            conversation_id,
            keywords,
            scheduled_notes,
            ids=ids,
            since_note_id=since_note_id,
            with_tasks=with_tasks,
            order_by=order_by,
        )
        rows = await info.context.read(
            lambda s: note_queries.list_notes(
                s, actor, wanted, offset=page.offset, limit=page.limit(info.context.settings)
            )
        )
        return [Note(row=row, position=position) for position, row in page.positioned(rows)]

    @strawberry.field(description="Number of notes", permission_classes=[IsAuthenticated])
    async def notesCount(
        self,
        info: Info[Context, None],
        conversation_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=CONVERSATION)
        ] = None,
        keywords: Annotated[str | None, strawberry.argument(description=KEYWORDS)] = None,
        org_chat: Annotated[bool | None, strawberry.argument(description=ORG_CHAT)] = False,
        provider_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=PROVIDER)
        ] = None,
        scheduled_notes: Annotated[bool | None, strawberry.argument(description=SCHEDULED)] = False,
    ) -> int | None:
        actor = require_actor(info)
        wanted = _filter(conversation_id, keywords, scheduled_notes)
        return await info.context.read(lambda s: note_queries.count_notes(s, actor, wanted))
