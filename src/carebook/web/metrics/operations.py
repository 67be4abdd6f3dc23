"""The labels of one GraphQL request: its root field and its outcome, from bounded sets.

A label value is never text a client chose: the operation is a root field name of the schema
(a client's operationName, aliases and arguments are ignored), "multiple" when a document asks
for several, "other" when it cannot be told; the outcome is "ok", "messages" (an expected
failure answered in a payload's messages), or the first error's code, a name Carebook sets.
"""

import re
from collections.abc import Iterable
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from strawberry.types import ExecutionResult

OTHER = "other"
MULTIPLE = "multiple"
OK = "ok"
MESSAGES = "messages"
ERROR = "error"
# Carebook's codes (carebook.graphql.errors); anything else is counted as "error".
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
# Documents longer than this are parsed each time rather than kept in the cache's memory.
_CACHED_DOCUMENT_CHARS = 16_384


def operation_label(document: str | None, operation_name: str | None, known: frozenset[str]) -> str:
    """The request's root field if it is one of ``known``; MULTIPLE or OTHER otherwise."""
    if not document:
        return OTHER
    if len(document) <= _CACHED_DOCUMENT_CHARS:
        fields = _cached_root_fields(document, operation_name)
    else:
        fields = _root_fields(document, operation_name)
    if len(fields) > 1:
        return MULTIPLE
    if len(fields) == 1 and fields[0] in known:
        return fields[0]
    return OTHER


def outcome_label(result: ExecutionResult) -> str:
    """OK, MESSAGES or the first error's code (ERROR when it has none Carebook would set)."""
    if result.errors:
        code = (result.errors[0].extensions or {}).get("code")
        return code if isinstance(code, str) and _CODE.fullmatch(code) else ERROR
    if isinstance(result.data, dict) and any(_has_messages(v) for v in result.data.values()):
        return MESSAGES
    return OK


def _has_messages(value: object) -> bool:
    return isinstance(value, dict) and bool(value.get("messages"))


@lru_cache(maxsize=512)
def _cached_root_fields(document: str, operation_name: str | None) -> tuple[str, ...]:
    return _root_fields(document, operation_name)


def _root_fields(document: str, operation_name: str | None) -> tuple[str, ...]:
    """The distinct root field names of the operation that runs (none when unparseable)."""
    try:
        parsed = parse(document, no_location=True)
    except GraphQLError:
        return ()
    operation = _operation(parsed, operation_name)
    if operation is None:
        return ()
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return tuple(dict.fromkeys(_names(operation.selection_set, fragments, set())))


def _operation(parsed: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _names(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> Iterable[str]:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _names(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:  # a cycle is invalid: stop, not recurse
                seen.add(name)
                yield from _names(fragments[name].selection_set, fragments, seen)
