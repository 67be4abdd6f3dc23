"""Schema extensions and the schema class: the request pipeline around resolvers."""

from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import cache, cached_property, lru_cache
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    GraphQLSchema,
    MiddlewareManager,
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    VariablesInAllowedPositionRule,
    parse,
)
from graphql.language.ast import QUERY_DOCUMENT_KEYS, DocumentNode, Location, Node, Token
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from carebook.graphql.errors import hide_faults_outside_the_operation
from carebook.graphql.hooks import KnownHooksRunner, Plans
from carebook.graphql.limits.fair_share import HeavyPacing


class CarebookSchema(strawberry.Schema):
    """Strawberry's schema without its default error logging, pacing only heavy requests,
    entering extension hooks without working them out again for every request.

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

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """Each stage's hooks found once per extension class, not per request (hooks.py)."""
        return KnownHooksRunner(execution_context, extensions, self._hook_plans)

    @cached_property
    def _hook_plans(self) -> Plans:
        """This schema's stage plans (hooks.py), made on first use."""
        return Plans()

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """No logging of Strawberry's; a fault raised by an extension's hook before the
        operation could run (parsing, validating) is hidden like any other fault (errors.py):
        it ends the operation before ErrorShaping, whose hook wraps it, has seen an error."""
        hide_faults_outside_the_operation(errors, execution_context)


# The rules that only look at a document's variables. A document without a "$" has none (a
# variable is a "$" and a name; a "$" in a string or a comment is not one), so these rules have
# nothing to find in it, yet each operation is walked once more, with type information, to
# collect its variables for them: a third of validating a large document without variables.
_VARIABLE_RULES = (NoUndefinedVariablesRule, VariablesInAllowedPositionRule)


def validation_rules(rules: tuple[Any, ...], query: str | None) -> tuple[Any, ...]:
    """The rules a document is validated with: all but the "all variables used" rule, and
    without the rules about variables when the document has none."""
    return _kept_rules(rules, query is not None and "$" not in query)


@lru_cache(maxsize=64)
def _kept_rules(rules: tuple[Any, ...], no_variables: bool) -> tuple[Any, ...]:
    # The same tuple of some thirty rules every request (Strawberry's defaults): filtered once
    # per tuple and kind of document, not rule by rule in each request.
    dropped: tuple[Any, ...] = (NoUnusedVariablesRule,)
    if no_variables:
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


def lighten(document: DocumentNode) -> DocumentNode:
    """``document`` without its tokens, and one Location for a node and the child that spans
    the same text (a leaf field and its name, a named type and its name).

    What a client sees of a document is unchanged: an error's ``locations`` come from each
    node's ``loc.source`` and ``loc.start``, both kept (GraphQLError; print_location too).
    graphql-core reads a Location's tokens nowhere once the parser is done with them.
    """
    root = document.loc
    if root is None:  # parsed with no_location
        return document
    # The tokens form a doubly linked chain (cycles); unlinked, they are freed at once by
    # reference counting instead of waiting in the old generation for a full collection.
    token: Token | None = root.start_token
    while token is not None and token.prev is not None:
        token = token.prev
    while token is not None:
        following = token.next
        token.prev = token.next = None
        token = following
    keys = QUERY_DOCUMENT_KEYS  # the attributes holding nodes, as graphql-core's visitor walks
    stack: list[tuple[Node, Location | None]] = [(document, None)]
    while stack:
        node, outer = stack.pop()
        loc = node.loc
        if loc is not None:
            if outer is not None and loc.start == outer.start and loc.end == outer.end:
                # The node is frozen, but nothing but this function has seen it yet, and it
                # stays equal (a Location compares and hashes by start and end).
                object.__setattr__(node, "loc", outer)
                loc = outer
            else:
                loc.start_token = loc.end_token = None  # type: ignore[assignment]
        for name in keys.get(node.kind, ()):  # a leaf (a name, a scalar value) has none
            child = getattr(node, name)
            if type(child) is tuple:
                stack.extend([(item, loc) for item in child])
            elif child is not None:
                stack.append((child, loc))
    return document


def parse_light(query: str, **options: Any) -> DocumentNode:
    """graphql-core's parse, the document then lightened (see :func:`lighten`)."""
    return lighten(parse(query, **options))


@cache
def _parse_cache(maxsize: int | None) -> Callable[..., DocumentNode]:
    # Module level and keyed by maxsize, as Strawberry's own: each request builds a fresh
    # extension, and every one of them shares the same cache.
    return lru_cache(maxsize=maxsize)(parse_light)


class CachedParsing(SchemaExtension):
    """Strawberry's ParserCache, except that a syntax error is left to Strawberry's own parse,
    and that what it keeps is lightened (:func:`lighten`).

    ParserCache raises syntax errors from its hook, outside the operation, where no extension
    can give the error its code; Strawberry's own parse reports it inside the operation.

    Why lightened (issues 23 and 28): graphql-core's parser leaves every Token of a document
    (a doubly linked chain, so reference cycles) reachable from each node's Location, and
    gives a node and a child spanning the same text two Locations. Filled with the schema
    walk's wide documents, the cache held 2.6 million objects the collector tracks (a million
    Locations, half a million Tokens), 320 MB, and every full collection (on the event loop,
    once a minute: carebook.gc_pauses) walked them all. Lightened: 1.6 million objects,
    216 MB; a full collection's CPU 15-20 % less (the nodes, which stay, cost the collector
    most); an evicted document is freed by reference counting, even one frozen by
    gc.freeze() (docs/performance.md, "The parse cache"). Parsing with ``no_location`` would
    go further but lose the ``locations`` of errors, which clients see (Healthie sends them).
    """

    def __init__(self, maxsize: int | None = 512) -> None:
        super().__init__()
        self.cached_parse_document = _parse_cache(maxsize)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLError:
            context.graphql_document = None
        yield


class _Validations:
    """The errors of validated documents, by (schema, document text, rules), the least recently
    used dropped beyond ``maxsize``: what Strawberry's ValidationCache keeps, under a key that
    costs nothing to hash."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._errors: OrderedDict[tuple[object, str, tuple[object, ...]], list[GraphQLError]]
        self._errors = OrderedDict()

    def errors(
        self, schema: GraphQLSchema, document: DocumentNode, query: str, rules: tuple[Any, ...]
    ) -> list[GraphQLError]:
        key = (schema, query, rules)
        found = self._errors.get(key)
        if found is not None:
            self._errors.move_to_end(key)
            return found
        errors = validate_document(schema, document, rules)
        self._errors[key] = errors
        if len(self._errors) > self.maxsize:
            self._errors.popitem(last=False)
        return errors


@cache
def _validations(maxsize: int) -> _Validations:
    return _Validations(maxsize)  # module level, shared by every request's extension


class CachedValidation(SchemaExtension):
    """Strawberry's ValidationCache, keyed by the document's text instead of its parsed tree.

    ValidationCache's key holds the DocumentNode, a frozen dataclass whose hash is computed
    over every node of the tree on every request, cached or not: 27 µs for a 50-field query,
    16 ms for the schema walk's widest documents. A text's hash is computed once by Python
    and kept in the string. The text decides the tree (CachedParsing parses it with the
    schema's fixed options), so it decides the errors as well as the tree does.
    """

    def __init__(self, maxsize: int = 512) -> None:
        super().__init__()
        self._validations = _validations(maxsize)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, query = context.graphql_document, context.query
        if document is not None and query is not None:  # else Strawberry validates (or not)
            context.pre_execution_errors = self._validations.errors(
                context.schema._schema, document, query, context.validation_rules
            )
        yield
