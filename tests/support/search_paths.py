"""Forcing an access path of the patient list in tests, by lowering its thresholds.

A threshold is patched in the module of ``carebook.search`` that reads it (a module that imports
a constant by name reads its own binding), so a path's values are plain names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterator, Mapping
from typing import Any
from unittest.mock import patch

from carebook.search import keyword_pages, last_name_order, pages, terms
from carebook.search.state import BOUNDS_MAX, Recent, SearchState, SortKey

# Where each threshold is read: the first of these modules that has the name.
_READERS = (pages, keyword_pages, last_name_order, terms)


class StaleBounds(Recent[Hashable, SortKey]):
    """Remembered bounds that no longer hold: before every key of the range, in its order."""

    def __init__(self) -> None:
        super().__init__(BOUNDS_MAX)

    def get(self, key: Hashable) -> SortKey | None:
        descending = isinstance(key, tuple) and bool(key[2])
        return ("\U0010ffff", 2**31 - 1) if descending else ("", 0)


@contextlib.contextmanager
def forced(state: SearchState, values: Mapping[str, Any]) -> Iterator[None]:
    """``values`` patched into the modules that read them; ``bounds`` replaces the state's."""
    with contextlib.ExitStack() as stack:
        for name, value in values.items():
            if name == "bounds":
                stack.enter_context(patch.object(state, "bounds", value))
                continue
            module = next(m for m in _READERS if hasattr(m, name))
            stack.enter_context(patch.object(module, name, value))
        yield
