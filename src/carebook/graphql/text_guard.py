"""Refuses text holding the NUL character before anything executes.

PostgreSQL cannot store U+0000 in text columns or compare against it (asyncpg fails the whole
statement), so a ``\\u0000`` in any string argument or variable turned into an internal error
there while SQLite stored it. No name, email, note or search term legitimately holds one, so
every operation carrying one is refused alike on both databases, with a code and nothing done.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, ExecutionResult, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from carebook.graphql.errors import BAD_USER_INPUT, CodedError

NUL = "\x00"
MESSAGE = "Text may not contain the NUL character (\\u0000)"


class _FindNul(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if NUL in node.value:
            self.found = True
            return self.BREAK
        return None


def _in_document(query: str | None, document: DocumentNode) -> bool:
    # A NUL reaches a parsed string only through a \u escape; most documents have none.
    if query is not None and "\\u" not in query:
        return False
    finder = _FindNul()
    visit(document, finder)
    return finder.found


def _in_value(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_in_value(item) for item in value.values())
    if isinstance(value, list):
        return any(_in_value(item) for item in value)
    return False


class RejectNulText(SchemaExtension):
    """Answers BAD_USER_INPUT, without executing, when any string input holds a NUL."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if (
            context.result is None
            and document is not None
            and (_in_value(context.variables) or _in_document(context.query, document))
        ):
            # A result set here makes Strawberry skip execution entirely.
            context.result = ExecutionResult(
                data=None, errors=[CodedError(MESSAGE, BAD_USER_INPUT)]
            )
        yield
