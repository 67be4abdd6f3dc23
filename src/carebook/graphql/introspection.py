"""In production mode, only signed-in callers may introspect the schema.

The schema is public (schema.graphql, Healthie's docs), but an anonymous caller has no use for
``__schema`` or ``__type`` besides mapping what to attack, so production answers them with
UNAUTHENTICATED and executes nothing. ``__typename`` is not introspection and stays open. The
check runs at execution, per request: validation results are cached per document, so a
validation rule could not depend on who is calling.
"""

import re
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, ExecutionResult, FieldNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from carebook.graphql.errors import UNAUTHENTICATED, CodedError

MESSAGE = (
    "Introspection (__schema, __type) needs credentials in production mode: send an API key"
    " or a session token"
)
_NAMES = frozenset({"__schema", "__type"})
# "__typename" starts with "__type": only a name ending there is a candidate.
_CANDIDATE = re.compile(r"__(?:schema|type)\b")


class _FindIntrospection(Visitor):
    found = False

    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        if node.name.value in _NAMES:
            self.found = True
            return self.BREAK
        return None


def introspects(query: str | None, document: DocumentNode) -> bool:
    """Whether the document selects ``__schema`` or ``__type`` anywhere (fragments included)."""
    if query is not None and not _CANDIDATE.search(query):
        return False  # most documents never name either
    finder = _FindIntrospection()
    visit(document, finder)
    return finder.found


class AnonymousIntrospectionOff(SchemaExtension):
    """Answers UNAUTHENTICATED, without executing, to introspection by an anonymous caller."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        caller = getattr(context.context, "actor", None)
        if (
            context.result is None
            and caller is None
            and document is not None
            and introspects(context.query, document)
        ):
            # A result set here makes Strawberry skip execution entirely.
            context.result = ExecutionResult(
                data=None, errors=[CodedError(MESSAGE, UNAUTHENTICATED)]
            )
        yield
