"""A document's cost, worked out once per document and what of its variables can change it.

:class:`~carebook.graphql.limits.cost.CostMeter` walks the operation's fields against the schema
on every request, because the cost depends on the variables: about a twentieth of a
``user(id)`` request's CPU (cProfile, docs/performance.md, "Fixed costs of every read"). Yet it
reads only four arguments (``id``, ``ids``, ``page_size``, ``should_paginate``: the meter's
``argument``), and of a variable that is such an argument's whole value only one thing: whether
an id is given, how many ids a list holds, which page size, whether pagination is on
(:func:`_as_read`). A client sends the same document again and again, changing only which
patient or page it asks for. So the estimate is kept by (document text, operation name, those
readings): the text decides the tree (as for the validation cache), so the same key walks the
same fields with the same values read. A variable that sits inside a costed argument (an id in
a list literal) keys by its whole value, within bounds (a few dozen parts, short strings;
beyond them the estimate is made afresh and not kept); one named in no costed argument (a
search's keywords, an update's fields) does not key at all. What is kept is bounded: 512
documents (as the parse cache), 2,048 estimates, each key naming its document by a number.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from graphql import ArgumentNode, DocumentNode, VariableNode, visit
from graphql.language import Visitor
from graphql.language.visitor import SKIP

# The arguments CostMeter reads (cost.py, ``CostMeter.argument``'s callers).
COSTED_ARGUMENTS = frozenset({"id", "ids", "page_size", "should_paginate"})
# What one key may hold of a variable's value kept whole (a list of ids inside a list literal, an
# input object): so many parts in all, strings so long. Beyond, the estimate is made afresh and
# not kept: a key stays small whatever a client sends (a request body can hold a megabyte).
_PARTS_KEPT = 32
_TEXT_KEPT = 128
# Documents and estimates kept, the least recently used dropped first (the parse cache keeps as
# many documents). A key names its document by a number, never by its text.
_DOCUMENTS = 512
_ESTIMATES = 2048


class _Unkeyable(Exception):
    """A variable's value that cannot be part of a key (too large, or of an unknown kind)."""


class _CostedVariables(Visitor):
    """How each variable inside the costed arguments is used: ``{name: {argument name}}`` when
    it is only ever the whole value of such arguments, ``"nested"`` among them when it sits
    inside one (a list of ids, an input object), where only its whole value can key."""

    def __init__(self) -> None:
        super().__init__()
        self.uses: dict[str, set[str]] = {}
        self._inside: list[str] = []  # the costed arguments entered and not yet left

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> Any:
        name = node.name.value
        if name not in COSTED_ARGUMENTS:
            return None
        if isinstance(node.value, VariableNode):
            self.uses.setdefault(node.value.name.value, set()).add(name)
            return SKIP  # nothing inside; graphql-core then calls no leave_argument for it
        self._inside.append(name)
        return None

    def leave_argument(self, node: ArgumentNode, *_args: Any) -> None:
        if node.name.value in COSTED_ARGUMENTS:
            self._inside.pop()

    def enter_variable(self, node: VariableNode, *_args: Any) -> None:
        if self._inside:
            self.uses.setdefault(node.name.value, set()).add("nested")


def costed_variables(document: DocumentNode) -> tuple[tuple[str, str | None], ...]:
    """The variables of ``document`` that the cost can depend on, each with the one costed
    argument it is the whole value of (None: used otherwise, so keyed by its whole value)."""
    finder = _CostedVariables()
    visit(document, finder)
    return tuple(
        (name, next(iter(uses)) if len(uses) == 1 and "nested" not in uses else None)
        for name, uses in sorted(finder.uses.items())
    )


def _frozen(value: Any, budget: list[int]) -> Any:
    """``value`` as a hashable key part; :class:`_Unkeyable` when it cannot be one or would be
    too large (``budget``: the parts still allowed, shared by the whole key)."""
    budget[0] -= 1
    if budget[0] < 0 or (isinstance(value, str) and len(value) > _TEXT_KEPT):
        raise _Unkeyable
    if value is None or isinstance(value, (str, int, float, bool)):
        # The type goes in too: 1, 1.0 and True are equal in Python, not in GraphQL.
        return (type(value), value)
    if isinstance(value, list):
        return ("list", *(_frozen(item, budget) for item in value))
    if isinstance(value, dict):
        # Keys are names (JSON's), each counted and bounded as a string is; sorted by name.
        parts = ((_frozen(str(k), budget), _frozen(v, budget)) for k, v in value.items())
        return ("object", *sorted(parts, key=lambda part: str(part[0][1])))
    raise _Unkeyable


def _as_read(argument: str | None, value: Any, budget: list[int]) -> Any:
    """What of ``value`` CostMeter's reading of ``argument`` depends on (cost.py: the value as
    sent, a variable's unchecked): whether an ``id`` is given, an ``ids`` list's length, a
    ``page_size`` integer, whether ``should_paginate`` is true. Null is kept apart from the
    rest (it means the argument's default). Used otherwise, the whole value."""
    if value is None:
        return "null"
    if argument == "id":
        return "given"
    if argument == "ids":
        return ("list", len(value)) if isinstance(value, list) else "other"
    if argument == "page_size":
        return ("int", value) if type(value) is int else "other"
    if argument == "should_paginate":
        return value is True
    return _frozen(value, budget)


class CostCache:
    """Estimates by (document, operation name, readings of its costed variables); one per
    schema's limits, so that a schema built with other limits never shares one."""

    def __init__(self, documents: int = _DOCUMENTS, estimates: int = _ESTIMATES) -> None:
        self.documents, self.estimates = documents, estimates
        # Each document's number (for the keys) and its costed variables, by text.
        self._documents: OrderedDict[str, tuple[int, tuple[tuple[str, str | None], ...]]]
        self._documents = OrderedDict()
        self._numbered = 0
        self._costs: OrderedDict[tuple[Any, ...], int] = OrderedDict()

    def cost(
        self,
        query: str | None,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        estimate: Callable[[], int],
    ) -> int:
        """The kept estimate for this request, or ``estimate()`` (then kept)."""
        if query is None or (operation_name is not None and len(operation_name) > _TEXT_KEPT):
            return estimate()
        number, names = self._document(query, document)
        given = variables or {}
        budget = [_PARTS_KEPT]
        try:
            values = tuple(
                _as_read(argument, given[name], budget) if name in given else "absent"
                for name, argument in names
            )
        except _Unkeyable:
            return estimate()
        key = (number, operation_name, values)
        found = self._costs.pop(key, None)
        if found is None:
            found = estimate()
            if len(self._costs) >= self.estimates:
                self._costs.popitem(last=False)
        self._costs[key] = found  # (again) the most recently used
        return found

    def _document(
        self, query: str, document: DocumentNode
    ) -> tuple[int, tuple[tuple[str, str | None], ...]]:
        found = self._documents.pop(query, None)
        if found is None:
            # A new number even for a text seen before and dropped: its old estimates, under
            # the old number, are never found again and age out.
            self._numbered += 1
            found = (self._numbered, costed_variables(document))
            if len(self._documents) >= self.documents:
                self._documents.popitem(last=False)
        self._documents[query] = found
        return found
