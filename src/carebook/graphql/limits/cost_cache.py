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
a list literal) keys by its whole value; one named in no costed argument (a search's keywords,
an update's fields) does not key at all.
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
# A value with more parts than this is not kept (a bulk update's thousand ids): estimated anew.
_LARGEST_KEPT = 64
# Variants kept per cache, the least recently used dropped first.
_MAXSIZE = 2048


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


def _frozen(value: Any) -> Any:
    """``value`` as a hashable key part; :class:`_Unkeyable` when it cannot be one."""
    if value is None or isinstance(value, (str, int, float, bool)):
        # The type goes in too: 1, 1.0 and True are equal in Python, not in GraphQL.
        return (type(value), value)
    if isinstance(value, list):
        if len(value) > _LARGEST_KEPT:
            raise _Unkeyable
        return ("list", *(_frozen(item) for item in value))
    if isinstance(value, dict):
        if len(value) > _LARGEST_KEPT:
            raise _Unkeyable
        return ("object", *sorted((str(k), _frozen(v)) for k, v in value.items()))
    raise _Unkeyable


def _as_read(argument: str | None, value: Any) -> Any:
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
    return _frozen(value)


class CostCache:
    """Estimates by (text, operation name, costed variables' values); one per schema's limits,
    so that a schema built with other limits never shares one."""

    def __init__(self, maxsize: int = _MAXSIZE) -> None:
        self.maxsize = maxsize
        self._names: dict[str, tuple[tuple[str, str | None], ...]] = {}
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
        if query is None:
            return estimate()
        names = self._names.get(query)
        if names is None:
            if len(self._names) >= self.maxsize:
                self._names.clear()  # documents come and go far less often than requests
            names = self._names[query] = costed_variables(document)
        given = variables or {}
        try:
            values = tuple(
                _as_read(argument, given[name]) if name in given else "absent"
                for name, argument in names
            )
        except _Unkeyable:
            return estimate()
        key = (query, operation_name, values)
        found = self._costs.get(key)
        if found is not None:
            self._costs.move_to_end(key)
            return found
        found = self._costs[key] = estimate()
        if len(self._costs) > self.maxsize:
            self._costs.popitem(last=False)
        return found
