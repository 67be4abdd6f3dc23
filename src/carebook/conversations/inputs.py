"""Typed input of the conversation service (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class NewConversation:
    """``createConversation``: a name, and the members besides the caller ("1,2,3")."""

    name: str | None = None
    simple_added_users: str | None = None
