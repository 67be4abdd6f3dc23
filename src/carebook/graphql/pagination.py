"""Healthie's Cursor scalar and the positional cursors of listed objects."""

from __future__ import annotations

import base64
from typing import NewType

import strawberry

from carebook.graphql.errors import BAD_USER_INPUT, CodedError

Cursor = NewType("Cursor", str)

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
