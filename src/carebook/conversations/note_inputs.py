"""Typed input of the message (Note) service (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True, kw_only=True)
class NewNote:
    """``createNote``: the text, its conversation and, optionally, the member it is from."""

    content: str | None = None
    conversation_id: str | None = None
    user_id: str | None = None
    scheduled_at: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteChanges:
    """``updateNote``: a new text of one message."""

    id: str | None = None
    content: str | None = None
    conversation_id: str | None = None
    user_id: str | None = None
    scheduled_at: str | None = None


class NoteOrder(StrEnum):
    """Healthie's NoteOrderKeys."""

    CREATED_AT_ASC = "CREATED_AT_ASC"
    CREATED_AT_DESC = "CREATED_AT_DESC"


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteFilter:
    """What ``notes`` and ``notesCount`` narrow the caller's visible messages to."""

    conversation_id: int | None = None
    ids: tuple[int, ...] | None = None
    keywords: str | None = None
    since_note_id: int | None = None
    # scheduled_notes: only messages waiting to be sent (the caller's own: no one else sees them)
    scheduled: bool = False
    # with_tasks: Carebook has no tasks, so asking for them lists nothing.
    nothing: bool = False
    order: NoteOrder = NoteOrder.CREATED_AT_DESC
