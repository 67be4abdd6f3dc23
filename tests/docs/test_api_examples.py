"""Every example document in docs/api.md is valid against Carebook's schema, with the JSON
variables shown after it: an operation renamed or a field removed breaks this test, not a
reader's first call."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode, parse, validate
from graphql.execution.values import get_variable_values

from carebook.graphql.schema import build_schema

PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK = re.compile(r"```(graphql|json)\n(.*?)\n```", re.S)


def _examples() -> list[tuple[str, dict[str, Any]]]:
    """(document, variables) for each graphql block, with the json block that follows it."""
    blocks = [(m.group(1), m.group(2)) for m in BLOCK.finditer(PAGE.read_text())]
    examples = []
    for (kind, text), following in pairwise(blocks):
        if kind == "graphql":
            assert following[0] == "json", f"no variables after {text[:40]}"
            examples.append((text, json.loads(following[1])))
    return examples


def _check_variables(schema: GraphQLSchema, document: str, variables: dict[str, Any]) -> None:
    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode), document
    definitions = operation.variable_definitions or ()
    assert set(variables) <= {d.variable.name.value for d in definitions}, (variables, document)
    # graphql-core's own coercion of request variables: errors where a value does not fit.
    coerced = get_variable_values(schema, definitions, variables)
    assert not isinstance(coerced, list), (coerced, document)


def test_the_page_has_examples_of_the_main_operations() -> None:
    documents = " ".join(document for document, _ in _examples())
    main = ("users(", "bulkUpdateClients(", "bulkApply(", "createAppointment(", "signIn(")
    assert [operation for operation in main if operation not in documents] == []


def test_every_example_is_valid_with_its_variables() -> None:
    schema = build_schema()._schema
    for document, variables in _examples():
        errors = validate(schema, parse(document))
        assert not errors, (document, errors)
        _check_variables(schema, document, variables)
