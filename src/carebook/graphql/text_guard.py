"""Refuses text no database can store, before anything executes: NUL and lone surrogates.

PostgreSQL cannot store U+0000 in text columns or compare against it (asyncpg fails the whole
statement), so a ``\\u0000`` in any string argument or variable turned into an internal error
there while SQLite stored it. A lone UTF-16 surrogate (``"\\ud800"`` in a JSON string: half of a
pair, which JSON allows and Python keeps as is) cannot be encoded as UTF-8 at all, so it was an
internal error on both databases, in password hashing and rate-limit keys as much as in SQL. No
name, email, note or search term legitimately holds either, so every operation carrying one, in
any variable (nested inputs, lists, even an input field's name) or literal, is refused alike on
both databases, with a code and nothing done. The GraphQL parser already refuses a lone surrogate
written in the document itself (``GRAPHQL_PARSE_FAILED``).
"""

import re
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, ExecutionResult, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from carebook.graphql.errors import BAD_USER_INPUT, CodedError

NUL = "\x00"
MESSAGE = "Text may not contain the NUL character (\\u0000)"
SURROGATE_MESSAGE = (
    "Text may not contain a lone UTF-16 surrogate (\\ud800-\\udfff): a character outside the"
    " Basic Multilingual Plane is sent as a surrogate pair (or as UTF-8)"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None when it can."""
    if NUL in text:
        return MESSAGE
    if _SURROGATE.search(text):
        return SURROGATE_MESSAGE
    return None


class _FindBadText(Visitor):
    found: str | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        self.found = problem(node.value)
        return self.BREAK if self.found else None


def _in_document(query: str | None, document: DocumentNode) -> str | None:
    # A NUL or a surrogate reaches a parsed string only through a \u escape; most documents
    # have none.
    if query is not None and "\\u" not in query:
        return None
    finder = _FindBadText()
    visit(document, finder)
    return finder.found


def in_value(value: Any) -> str | None:
    """Why a decoded JSON value (keys included) holds text that cannot be stored, or None."""
    # A loop, not recursion: however deep the value, this cannot exhaust the stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found = problem(item)
            if found:
                return found
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


class RejectUnstorableText(SchemaExtension):
    """Answers BAD_USER_INPUT, without executing, when any string input holds a NUL or a lone
    surrogate."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.result is None and document is not None:
            found = in_value(context.variables) or _in_document(context.query, document)
            if found:
                # A result set here makes Strawberry skip execution entirely.
                context.result = ExecutionResult(
                    data=None, errors=[CodedError(found, BAD_USER_INPUT)]
                )
        yield
