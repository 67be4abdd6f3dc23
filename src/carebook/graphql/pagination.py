"""Pagination of every list field: Healthie's Cursor scalar, positional cursors, and one Page.

Every list resolver turns its ``offset`` / ``page_size`` / ``should_paginate`` / ``after``
arguments into a :class:`Page` with :func:`page_of`, so the limits and the BAD_USER_INPUT
messages of bad values are the same on every list. Domain queries take plain offsets and limits.
"""

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NewType, TypeVar

import strawberry

from carebook.config import Settings
from carebook.graphql.errors import BAD_USER_INPUT, CodedError
from carebook.graphql.limits.rows import check_cap, unpaginated_fetch_limit

T = TypeVar("T")
Cursor = NewType("Cursor", str)
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100

# Registered in the schema config's scalar_map, which keeps Cursor a plain NewType for mypy.
CURSOR_SCALAR = strawberry.scalar(
    name="Cursor",
    description="An opaque position in a list; pass it as `after` to continue after it.",
    serialize=str,
    parse_value=str,
)


def encode_cursor(position: int) -> str:
    """The cursor of the object at ``position`` (0-based) of a list."""
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode()


def after_offset(cursor: str | None) -> int:
    """Where a list continues after ``cursor`` (0 without one)."""
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        # Bounded: a huge position would overflow OFFSET (a database error, not bad input).
        if kind == "pos" and value.isascii() and value.isdigit() and len(value) <= 12:
            return int(value) + 1
    except (ValueError, UnicodeDecodeError):
        pass
    raise CodedError("Invalid cursor: pass a cursor returned by this list", BAD_USER_INPUT)


@dataclass(frozen=True, slots=True)
class Page:
    """The part of a list asked for: where it starts, and how many (None: the whole list)."""

    offset: int
    size: int | None

    def limit(self, settings: Settings) -> int:
        """How many rows to read: the page, or for a whole list one past the cap (see
        :meth:`check_whole`), so a list that is too long is told from one that fits."""
        return self.size if self.size is not None else unpaginated_fetch_limit(settings)

    def check_whole(self, fetched: int, settings: Settings, *, what: str) -> None:
        """Refuse a whole list over CAREBOOK_UNPAGINATED_LIST_MAX_ROWS; a page is bounded."""
        if self.size is None:
            check_cap(fetched, settings, what=what)

    def positioned(self, rows: Iterable[T]) -> Iterator[tuple[int, T]]:
        """The rows with their positions in the whole list (what their cursors encode)."""
        return enumerate(rows, start=self.offset)


def page_of(
    *,
    offset: int | None,
    page_size: int | None,
    paginate: bool | None = True,
    after: str | None = None,
    default_size: int = DEFAULT_PAGE_SIZE,
    max_size: int = MAX_PAGE_SIZE,
) -> Page:
    """The page a list's arguments ask for; a bad value is a BAD_USER_INPUT error.

    A null ``offset`` is 0 and a null ``page_size`` the default. ``page_size`` counts only when
    ``paginate`` (Healthie's ``should_paginate``): otherwise the whole list is asked for, and
    bounded by the caller with :meth:`Page.check_whole`. ``offset`` applies after ``after``.
    """
    skip = offset or 0
    if skip < 0:
        raise CodedError("offset can't be negative", BAD_USER_INPUT)
    size = None
    if paginate:
        size = default_size if page_size is None else page_size
        if not 1 <= size <= max_size:
            raise CodedError(f"page_size must be between 1 and {max_size}", BAD_USER_INPUT)
    return Page(offset=after_offset(after) + skip, size=size)
