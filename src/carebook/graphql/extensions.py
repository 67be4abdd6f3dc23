"""Schema extensions and the schema class: the request pipeline around resolvers."""

from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    MiddlewareManager,
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    VariablesInAllowedPositionRule,
)
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.types import ExecutionContext

from carebook.graphql.limits.fair_share import HeavyPacing


class CarebookSchema(strawberry.Schema):
    """Strawberry's schema without its default error logging, pacing only heavy requests.

    The default logs every error with its exception text, which can hold patient data;
    :class:`ErrorShaping` logs internal errors itself, with a request id and no values.
    """

    def _get_middleware_manager(self, extensions: list[SchemaExtension]) -> MiddlewareManager:
        """Resolvers are wrapped only for a heavy request (limits/fair_share.py, HeavyPacing).

        Strawberry's own manager wraps every field of every request in each extension's
        ``resolve`` hook; no extension of this schema has one (tests/limits pins it).
        """
        context = extensions[0].execution_context.context if extensions else None
        return HeavyPacing(context)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


# The rules that only look at a document's variables. A document without a "$" has none (a
# variable is a "$" and a name; a "$" in a string or a comment is not one), so these rules have
# nothing to find in it, yet each operation is walked once more, with type information, to
# collect its variables for them: a third of validating a large document without variables.
_VARIABLE_RULES = (NoUndefinedVariablesRule, VariablesInAllowedPositionRule)


def validation_rules(rules: tuple[Any, ...], query: str | None) -> tuple[Any, ...]:
    """The rules a document is validated with: all but the "all variables used" rule, and
    without the rules about variables when the document has none."""
    dropped: tuple[Any, ...] = (NoUnusedVariablesRule,)
    if query is not None and "$" not in query:
        dropped += _VARIABLE_RULES
    return tuple(rule for rule in rules if rule not in dropped)


class AllowUnusedVariables(SchemaExtension):
    """Drop the spec's "all variables used" rule, as Healthie's own examples need.

    The seed's signUp document declares ``$provider_type`` and never uses it; the product must
    accept Healthie's documents unchanged, and an unused variable cannot change a result.
    A document without variables skips the variable rules too (validation_rules).
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = validation_rules(context.validation_rules, context.query)
        yield


class CachedParsing(ParserCache):
    """Strawberry's parser cache, except that a syntax error is left to Strawberry's own parse.

    ParserCache raises syntax errors from its hook, outside the operation, where no extension
    can give the error its code; Strawberry's own parse reports it inside the operation.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLError:
            context.graphql_document = None
        yield
