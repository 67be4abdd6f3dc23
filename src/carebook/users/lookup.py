"""Services name rows by ids from the client: one way to turn them into rows or a message.

Every service that acts on a row the client names (a tag, a group, a location, an appointment,
the patients of a bulk change) parses the id with :func:`carebook.users.validation.parse_id`,
reads it within the caller's visibility, and answers ``NotFound`` when there is none: an id of
another organization and an unknown one get the same message, so ids cannot be probed. Lives next
to ``parse_id``, which every domain already uses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, TypeVar

from carebook.errors import Invalid, NotFound
from carebook.users.validation import parse_id

T = TypeVar("T")
BLANK_ID = "Id can't be blank"


async def found(
    raw_id: Any,
    load: Callable[[int], Awaitable[T | None]],
    *,
    field: str,
    missing: str,
    blank: str | None = BLANK_ID,
) -> T:
    """The row ``raw_id`` names, read by ``load`` (which applies the caller's visibility).

    An unknown or hidden id is ``NotFound(field, missing)``; a blank one is ``Invalid(field,
    blank)``, or with ``blank=None`` the same NotFound as an unknown one. A malformed id is
    ``parse_id``'s message.
    """
    row_id = parse_id(raw_id, field)
    if row_id is None and blank is not None:
        raise Invalid.field(field, blank)
    row = None if row_id is None else await load(row_id)
    if row is None:
        raise NotFound.field(field, missing)
    return row


def all_found(wanted: Sequence[int], present: Collection[int], *, field: str, label: str) -> None:
    """``NotFound(field, "<label> not found: 3, 7")`` unless every wanted id is present."""
    absent = [str(row_id) for row_id in wanted if row_id not in present]
    if absent:
        raise NotFound.field(field, f"{label} not found: {', '.join(absent)}")
