"""An estimate of how many objects a request returns, checked before it executes.

Each field that returns objects costs as many objects as it can return, by the bound each list
has at run time (:mod:`.rows`): 1 for a single object; for a list, its page (``page_size`` as
sent, else its default; a list paginated without a page size, like ``Tag.tagged_users``, the
default page), the whole-list cap for a root list asked for with ``should_paginate: false`` (or
unpaginated by default) and for a root list or a mutation payload's list without pagination,
the nested cap for a list inside an object that is not paginated, and no more than the ids it
is narrowed to (``id``, ``ids``); a payload's ``messages``, built from the input, as one object.
Introspection lists, bounded by the schema and not by data, are assumed to hold the default
page. Nested lists multiply. The estimate needs the variables' values, so it is checked per
request, after validation; it is worked out once per document and reading of the variables it
depends on (cost_cache.py: only what ``CostMeter.argument`` reads of them may key it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    value_from_ast,
    value_from_ast_untyped,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}
# Lists built from the request, not read from storage: a payload's ``messages`` holds one
# FieldError per problem with the input, a few at most (the input itself is bounded by the token
# and body limits), and reads nothing. Counted as one object rather than a payload list's cap:
# Healthie clients ask for ``messages`` in every mutation, and at the cap (1,000) every such
# mutation was heavy, its resolvers held back behind the light requests (fair_share.py).
# Matched by type, wherever it appears: FieldError is only ever a payload's ``messages``.
_FROM_THE_INPUT = frozenset({"FieldError"})


@dataclass(frozen=True)
class ListSizes:
    """What a list field can return when the document does not say."""

    default: int  # a page without page_size; an introspection list
    unpaginated: int  # a whole root list (CAREBOOK_UNPAGINATED_LIST_MAX_ROWS)
    nested: int  # a whole list inside an object (CAREBOOK_NESTED_LIST_MAX_ROWS)
    payload: int  # a mutation payload's list (CAREBOOK_BULK_UPDATE_MAX_IDS)


def variables_with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The request's variables plus the defaults the operation declares."""
    values = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values


class CostMeter:
    """Estimates one operation; a fragment is estimated once (cost is linear in its multiplier)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: dict[str, Any],
        sizes: ListSizes,
    ) -> None:
        self.schema, self.variables, self.sizes = schema, variables, sizes
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, int] = {}
        self.visiting: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> int:
        """The estimated number of objects the operation returns."""
        root = self.schema.get_root_type(operation.operation)
        return self.selections(operation.selection_set, root) if root else 0

    def selections(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        if selection_set is None:
            return 0
        return sum(self.selection(s, parent) for s in selection_set.selections)

    def selection(self, node: Any, parent: Any) -> int:
        if isinstance(node, FieldNode):
            return self.field(node, parent)
        if isinstance(node, InlineFragmentNode):
            condition = node.type_condition
            inner = self.schema.get_type(condition.name.value) if condition else parent
            return self.selections(node.selection_set, inner)
        if isinstance(node, FragmentSpreadNode):
            return self.fragment(node.name.value)
        return 0

    def field(self, node: FieldNode, parent: Any) -> int:
        definition = _field_definition(node.name.value, parent)
        if definition is None:
            return 0  # unknown fields are the validation rules' business
        named: GraphQLNamedType = get_named_type(definition.type)
        many = isinstance(get_nullable_type(definition.type), GraphQLList)
        if is_leaf_type(named):
            # A list of scalars (ids) costs its items, as a list of objects does: each is a row.
            return self.list_size(node, definition, parent) if many else 0
        if many and named.name not in _FROM_THE_INPUT:
            count = self.list_size(node, definition, parent)
        else:
            count = 1
        return count + count * self.selections(node.selection_set, named)

    def list_size(self, node: FieldNode, definition: GraphQLField, parent: Any) -> int:
        size = self.page_size(node, definition, self.whole_list(parent))
        # A list narrowed to given ids (users(id:), tags(ids:)) holds at most that many.
        if self.argument(node, definition, "id") is not None:
            return 1
        ids = self.argument(node, definition, "ids")
        return min(size, max(len(ids), 1)) if isinstance(ids, list) else size

    def whole_list(self, parent: Any) -> int:
        """How many objects a list of ``parent``'s that is not paginated can hold."""
        name = getattr(parent, "name", "")
        if name.startswith("__"):
            return self.sizes.default  # introspection: the schema's size, not the data's
        if parent in (self.schema.query_type, self.schema.mutation_type):
            return self.sizes.unpaginated
        if name.endswith("Payload"):
            return self.sizes.payload
        return self.sizes.nested

    def page_size(self, node: FieldNode, definition: GraphQLField, whole: int) -> int:
        args = definition.args
        paginate = self.argument(node, definition, "should_paginate")
        if "should_paginate" in args and paginate is not True:
            return whole
        page_size = self.argument(node, definition, "page_size")
        if isinstance(page_size, int) and not isinstance(page_size, bool):
            return max(page_size, 1)
        if "page_size" in args or "should_paginate" in args:
            return self.sizes.default
        return whole

    def argument(self, node: FieldNode, definition: GraphQLField, name: str) -> Any:
        """The argument's value as sent (variables resolved), else its declared default."""
        declared = definition.args.get(name)
        if declared is None:
            return None
        given = next((a for a in node.arguments or () if a.name.value == name), None)
        value = value_from_ast(given.value, declared.type, self.variables) if given else Undefined
        if value is Undefined or value is None:
            value = declared.default_value
        return None if value is Undefined else value

    def fragment(self, name: str) -> int:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return 0
        self.visiting.add(name)
        condition = self.schema.get_type(definition.type_condition.name.value)
        cost = self.selections(definition.selection_set, condition)
        self.visiting.discard(name)
        self.memo[name] = cost
        return cost


def _field_definition(name: str, parent: Any) -> GraphQLField | None:
    if name in _META_FIELDS:
        return _META_FIELDS[name]
    fields = getattr(parent, "fields", None)  # unions have no fields of their own
    return fields.get(name) if fields else None
