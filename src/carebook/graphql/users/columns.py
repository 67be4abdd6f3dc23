"""Which columns of the users row a document's User selection reads.

The patient list reads only those (issue 28): a page of ten users with eight fields read every
column of each row (about thirty), and the database and the ORM paid for all of them. Each
User field names the attributes it reads in its metadata (``READS``, graphql/users/types.py);
a field that does not (a resolver reading the row as a whole) makes the whole row read, so a
new field is never served from a column that was not loaded.
"""

from collections.abc import Iterable, Iterator
from functools import cache

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    parse,
)
from graphql.language import SelectionNode
from strawberry.types import Info
from strawberry.types.base import get_object_definition

from carebook.graphql.users.types import READS, User

# Read for every User whatever is selected: what the reader may see of it (users/scoping.py
# reads organization_id and role), the audit trail (id, organization_id, role) and identity.
ROW_KEY = ("id", "organization_id", "role")


@cache
def _reads_by_field() -> dict[str, tuple[str, ...] | None]:
    """GraphQL field name -> the row attributes it reads (None: the whole row)."""
    reads: dict[str, tuple[str, ...] | None] = {"__typename": ()}
    definition = get_object_definition(User, strict=True)
    for field in definition.fields:
        reads[field.name] = field.metadata.get(READS)
    return reads


def selected_columns(info: Info) -> tuple[str, ...] | None:
    """The attributes of the users row the current field's User selection reads, or None when
    it needs the whole row. For a root field returning Users (``users``)."""
    raw = info._raw_info
    return _columns_of(raw.field_nodes, raw.fragments)


def selected_columns_under(info: Info, name: str) -> tuple[str, ...] | None:
    """The attributes of the users row read by the User selection of the current field's
    ``name`` (a mutation payload's ``users``), or None when it needs the whole row."""
    raw = info._raw_info
    children = (
        child
        for node in raw.field_nodes
        if node.selection_set is not None
        for child in _fields_named(node.selection_set.selections, raw.fragments, name, set())
    )
    return _columns_of(children, raw.fragments)


def document_columns(document: str) -> tuple[str, ...] | None:
    """The attributes read by the User selection of ``document``'s first root field, as
    :func:`selected_columns` finds them while it runs (the bench captures the SQL the server
    sends for a document with it)."""
    parsed = parse(document)
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    root = next(s for s in operation.selection_set.selections if isinstance(s, FieldNode))
    return _columns_of([root], fragments)


def _columns_of(
    nodes: Iterable[FieldNode], fragments: dict[str, FragmentDefinitionNode]
) -> tuple[str, ...] | None:
    """What the User selections of ``nodes`` read together, ROW_KEY first; None: the row."""
    wanted: dict[str, None] = dict.fromkeys(ROW_KEY)
    for node in nodes:
        if node.selection_set is not None and not _collect(
            node.selection_set.selections, fragments, wanted, set()
        ):
            return None
    return tuple(wanted)


def _fields_named(
    selections: Iterable[SelectionNode],
    fragments: dict[str, FragmentDefinitionNode],
    name: str,
    seen: set[str],
) -> Iterator[FieldNode]:
    """The fields called ``name`` among ``selections``, through fragments (aliased or not)."""
    for selection in selections:
        if isinstance(selection, FieldNode):
            if selection.name.value == name:
                yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields_named(selection.selection_set.selections, fragments, name, seen)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if selection.name.value in seen or fragment is None:
                continue
            seen.add(selection.name.value)
            yield from _fields_named(fragment.selection_set.selections, fragments, name, seen)


def _collect(
    selections: Iterable[SelectionNode],
    fragments: dict[str, FragmentDefinitionNode],
    wanted: dict[str, None],
    seen: set[str],
) -> bool:
    """Add the attributes ``selections`` read to ``wanted``; False when one needs the row."""
    reads = _reads_by_field()
    for selection in selections:
        if isinstance(selection, FieldNode):
            columns = reads.get(selection.name.value)
            if columns is None:
                return False
            wanted.update(dict.fromkeys(columns))
        elif isinstance(selection, InlineFragmentNode):
            if not _collect(selection.selection_set.selections, fragments, wanted, seen):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if name in seen or fragment is None:
                continue  # validation refuses cycles and unknown fragments before execution
            seen.add(name)
            if not _collect(fragment.selection_set.selections, fragments, wanted, seen):
                return False
    return True
