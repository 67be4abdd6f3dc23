"""Depth and alias count of a document, as a validation rule.

Strawberry's QueryDepthLimiter and MaxAliasesLimiter do not fit as they are: the depth limiter
raises KeyError on a spread of an unknown fragment (an internal error instead of a validation
error), both walk a fragment again at every spread (a document of fragments that each spread
the next twice takes exponential time to check), and neither gives its error a code.
Here each fragment is measured once and every error carries QUERY_TOO_COMPLEX.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from carebook.graphql.errors import QUERY_TOO_COMPLEX


@dataclass(frozen=True)
class Shape:
    """The longest chain of nested fields, and how many aliased fields a selection expands to."""

    depth: int = 0
    aliases: int = 0


class ShapeMeter:
    """Measures selections of one document; each fragment is measured once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, Shape] = {}
        self.visiting: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None) -> Shape:
        """The shape of a selection set: deepest child, and all aliases added up."""
        depth = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            shape = self.selection(selection)
            depth, aliases = max(depth, shape.depth), aliases + shape.aliases
        return Shape(depth, aliases)

    def selection(self, node: Any) -> Shape:
        if isinstance(node, FieldNode):
            inner = self.selections(node.selection_set)
            # Introspection (GraphiQL's schema query nests ofType many levels) has no depth here;
            # its breadth is bounded by the cost limit.
            own_depth = 0 if node.name.value.startswith("__") else 1 + inner.depth
            return Shape(own_depth, inner.aliases + (1 if node.alias else 0))
        if isinstance(node, InlineFragmentNode):
            return self.selections(node.selection_set)
        if isinstance(node, FragmentSpreadNode):
            return self.fragment(node.name.value)
        return Shape()

    def fragment(self, name: str) -> Shape:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return Shape()  # unknown fragments and cycles are reported by the standard rules
        self.visiting.add(name)
        shape = self.selections(definition.selection_set)
        self.visiting.discard(name)
        self.memo[name] = shape
        return shape


def shape_rule(*, max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A validation rule refusing operations deeper or with more aliases than allowed.

    Build it once per schema: the validation cache is keyed by the rule classes.
    """

    class ShapeLimit(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            meter = ShapeMeter(node)
            for operation in node.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    _check(self.context, operation, meter.selections(operation.selection_set))

    def _check(context: ValidationContext, node: OperationDefinitionNode, shape: Shape) -> None:
        if shape.depth > max_depth:
            message = f"The document nests fields {shape.depth} levels deep; at most {max_depth}"
            context.report_error(
                too_complex(f"{message} are allowed.", node, limit=max_depth, actual=shape.depth)
            )
        if shape.aliases > max_aliases:
            message = f"The document uses {shape.aliases} aliases; at most {max_aliases}"
            context.report_error(
                too_complex(
                    f"{message} are allowed.", node, limit=max_aliases, actual=shape.aliases
                )
            )

    return ShapeLimit


def too_complex(message: str, node: Any = None, **details: int) -> GraphQLError:
    """An error of a document over one of the limits."""
    return GraphQLError(message, node, extensions={"code": QUERY_TOO_COMPLEX, **details})
