"""Expected failures: raised by services, returned to clients as ``messages``.

A service raises :class:`Invalid` before or after flushing; the mutation wrapper rolls the
transaction back and turns the messages into ``FieldError`` values, so nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldMessage:
    """One problem with the input; ``field`` names the input field when one applies."""

    field: str | None
    message: str


class Invalid(Exception):
    """The request cannot be carried out as given; nothing must be written."""

    def __init__(self, *messages: FieldMessage) -> None:
        super().__init__("; ".join(m.message for m in messages))
        self.messages = list(messages)

    @classmethod
    def field(cls, field: str | None, message: str) -> Invalid:
        """Shorthand for a single message."""
        return cls(FieldMessage(field, message))


class NotFound(Invalid):
    """The record does not exist or the caller may not see it (the two are indistinguishable)."""
