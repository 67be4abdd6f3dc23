"""The rules documents are validated with (carebook.graphql.extensions.validation_rules).

A document without a "$" has no variables, so it is validated without the rules about
variables (each walked the whole document again); a document with variables still gets them,
and a request with a variable used wrongly is refused as before.
"""

from __future__ import annotations

from graphql import (
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    VariablesInAllowedPositionRule,
    specified_rules,
)
from tests.support.api import Api

from carebook.graphql.extensions import validation_rules

RULES = tuple(specified_rules)
VARIABLE_RULES = {NoUndefinedVariablesRule, VariablesInAllowedPositionRule}


def test_a_document_without_variables_skips_the_variable_rules() -> None:
    rules = validation_rules(RULES, '{ users(keywords: "a") { id } }')
    assert VARIABLE_RULES.isdisjoint(rules) and NoUnusedVariablesRule not in rules
    assert set(rules) == set(RULES) - VARIABLE_RULES - {NoUnusedVariablesRule}


def test_the_rules_are_filtered_once_per_kind_of_document() -> None:
    first = validation_rules(RULES, "{ a }")
    assert validation_rules(tuple(specified_rules), "{ b }") is first  # an equal tuple, too
    with_variables = validation_rules(RULES, "query($x: ID) { user(id: $x) { id } }")
    assert with_variables is not first
    assert validation_rules(RULES, "query($y: ID) { user(id: $y) { id } }") is with_variables


def test_a_document_with_variables_keeps_them() -> None:
    for query in ("query($k: String) { users(keywords: $k) { id } }", "{ user(id: $id) { id } }"):
        rules = validation_rules(RULES, query)
        assert set(rules) >= VARIABLE_RULES and NoUnusedVariablesRule not in rules
    # A "$" anywhere (here in a string) keeps them: never fewer rules than the document needs.
    assert set(validation_rules(RULES, '{ users(keywords: "$5") { id } }')) >= VARIABLE_RULES
    assert set(validation_rules(RULES, None)) >= VARIABLE_RULES


async def test_variables_used_wrongly_are_still_refused(api: Api) -> None:
    undefined = await api.error_codes("{ user(id: $id) { id } }", {"id": "1"})
    assert undefined == ["GRAPHQL_VALIDATION_FAILED"]
    misplaced = await api.error_codes(
        "query($n: Boolean) { users(keywords: $n) { id } }", {"n": True}
    )
    assert misplaced == ["GRAPHQL_VALIDATION_FAILED"]
    # Declared and unused is allowed (Healthie's own documents do it).
    assert await api.error_codes("query($unused: String) { __typename }", {}) == []
