"""The schema extensions that enforce the limits on documents."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import ASTValidationRule, ExecutionResult, get_operation_ast
from strawberry.extensions import MaxTokensLimiter

from carebook.config import Settings
from carebook.graphql.limits.cost import CostMeter, ListSizes, variables_with_defaults
from carebook.graphql.limits.cost_cache import CostCache
from carebook.graphql.limits.fair_share import HEAVY_COST, request_ticket
from carebook.graphql.limits.shape import shape_rule, too_complex


@dataclass(frozen=True)
class QueryLimits:
    """The limits on one document; see the CAREBOOK_MAX_QUERY_* settings."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int
    list_size: int
    unpaginated_rows: int
    nested_rows: int
    payload_rows: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "QueryLimits":
        """The limits a server is configured with."""
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_query_aliases,
            max_tokens=settings.max_query_tokens,
            max_cost=settings.max_query_cost,
            list_size=settings.query_cost_list_size,
            unpaginated_rows=settings.unpaginated_list_max_rows,
            nested_rows=settings.nested_list_max_rows,
            payload_rows=settings.bulk_update_max_ids,
        )


class DocumentLimits(MaxTokensLimiter):
    """Enforces every limit on documents from one extension (each extension costs every request).

    Tokens: Strawberry's MaxTokensLimiter (the parser stops at the limit). Depth and aliases: a
    validation rule, cached with the document's validation. Cost: checked per request, before
    execution, because it depends on the variables (estimated once per document and reading
    of its variables: cost_cache.py).
    """

    def __init__(
        self, *, max_tokens: int, rules: tuple[type[ASTValidationRule], ...], max_cost: int,
        sizes: ListSizes, costs: CostCache,
    ) -> None:  # fmt: skip
        super().__init__(max_token_count=max_tokens)
        self.rules, self.max_cost, self.sizes, self.costs = rules, max_cost, sizes, costs

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = context.validation_rules + self.rules
        yield from super().on_operation()

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if document is not None and operation is not None:

            def estimate() -> int:
                variables = variables_with_defaults(operation, context.variables)
                meter = CostMeter(context.schema._schema, document, variables, self.sizes)
                return meter.operation(operation)

            cost = self.costs.cost(
                context.query, document, context.operation_name, context.variables, estimate
            )
            if cost > self.max_cost:
                error = too_complex(
                    f"The query could return about {cost} objects; at most {self.max_cost} are "
                    "allowed. Ask for smaller pages (page_size) or fewer nested lists.",
                    limit=self.max_cost,
                    actual=cost,
                )
                # A result set here makes Strawberry skip execution entirely.
                context.result = ExecutionResult(data=None, errors=[error])
            elif cost > HEAVY_COST and (ticket := request_ticket(context.context)) is not None:
                ticket.become_heavy()  # it now gives the loop up to cheaper requests
        yield


def limit_extensions(limits: QueryLimits) -> list[Callable[[], Any]]:
    """The factory of the extension enforcing ``limits`` (one instance per request).

    The validation rule class is built here, once: the validation cache is keyed by the rule
    classes, so a new class per request would never hit it. So is the cache of estimates
    (limits/cost_cache.py), shared by this schema's requests only: its limits decide them.
    """
    rules = (shape_rule(max_depth=limits.max_depth, max_aliases=limits.max_aliases),)
    sizes = ListSizes(
        default=limits.list_size,
        unpaginated=limits.unpaginated_rows,
        nested=limits.nested_rows,
        payload=limits.payload_rows,
    )
    costs = CostCache()
    return [
        lambda: DocumentLimits(
            max_tokens=limits.max_tokens, rules=rules, max_cost=limits.max_cost, sizes=sizes,
            costs=costs,
        ),
    ]  # fmt: skip
