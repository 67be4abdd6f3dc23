"""What the patient list remembers between requests, owned by the application.

Range sizes (to choose an access path), sampled bounds (hints for last-name-ordered reads) and
statements built once per shape: none of them ever decides a result, each only saves work. The
app creates one :class:`SearchState` next to its :class:`~carebook.db.engine.Database` and hands
it to every ``search.page`` / ``search.count`` call, so two apps (or two tests) in one process
share nothing, and a test can start from an empty state or put stale hints in it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import Select

from carebook.users.models import User

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Range sizes are per (organization, term): bounded, since clients choose the terms.
SIZES_MAX = 4096
# Bounds are per (organization, term, order, status, position, batch).
BOUNDS_MAX = 1024
# Keys statements multiply with the kinds of other terms, which clients choose.
KEYS_STATEMENTS_MAX = 256
# Deep page statements: one per (status, direction), six in all.
DEEP_PAGE_STATEMENTS_MAX = 8
# Row statements per caller, sort and columns (a plain page's; a deep page's also per status
# and direction, up to six a caller): callers and documents in use at a time. A statement
# pushed out is only built again.
ROWS_STATEMENTS_MAX = 512


class Recent(Generic[K, V]):
    """A mapping that keeps its ``most`` most recently stored (or built, see ``built``) entries."""

    def __init__(self, most: int) -> None:
        self._most = most
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The stored value, or None."""
        return self._entries.get(key)

    def put(self, key: K, value: V) -> None:
        """Store ``value``, forgetting the least recently stored entry beyond ``most``."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self._most:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        """Forget ``key`` (nothing when unknown)."""
        self._entries.pop(key, None)

    def built(self, key: K, build: Callable[[], V]) -> V:
        """The value of ``key``, built and stored on first use (for statements).

        A use counts as recent, so the statements in use are the ones kept.
        """
        value = self._entries.get(key)
        if value is None:
            value = build()
            self.put(key, value)
        else:
            self._entries.move_to_end(key)
        return value

    def __len__(self) -> int:
        return len(self._entries)


# (size, counted up to, expiry on the monotonic clock)
Size = tuple[int, int, float]
# (last_name, user_id): a position in last-name order.
SortKey = tuple[str, int]


@dataclass
class SearchState:
    """The patient list's caches, one set per application (see the module docstring)."""

    # Per (organization, term, exact word only): see ``terms.estimate``.
    sizes: Recent[Hashable, Size] = field(default_factory=lambda: Recent(SIZES_MAX))
    # Per read of a term in last-name order: see ``last_name_order.in_last_name_order``.
    bounds: Recent[Hashable, SortKey] = field(default_factory=lambda: Recent(BOUNDS_MAX))
    # Statements built once with bound parameters (building cost more CPU than running them).
    keys_statements: Recent[Hashable, Select[str, int]] = field(
        default_factory=lambda: Recent(KEYS_STATEMENTS_MAX)
    )
    deep_page_statements: Recent[Hashable, Select[int]] = field(
        default_factory=lambda: Recent(DEEP_PAGE_STATEMENTS_MAX)
    )
    # A page's rows: see ``rows.py``.
    rows_statements: Recent[Hashable, Select[User]] = field(
        default_factory=lambda: Recent(ROWS_STATEMENTS_MAX)
    )
