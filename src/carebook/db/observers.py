"""Who is told of the statements sent straight to a driver, outside SQLAlchemy's engine events.

The read trail's batches and the held connections' prepared reads bypass the engines, so engine
events (which the tests use to count statements) never see them; their owners tell these
observers instead. Nobody observes outside the tests, so telling is a loop over an empty list.
"""

from __future__ import annotations

from collections.abc import Callable

Observer = Callable[[str], None]


class Observers:
    """The observers of one owner's statements."""

    __slots__ = ("_observers",)

    def __init__(self) -> None:
        self._observers: list[Observer] = []

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` with every statement sent from now on; returns the way to stop."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def tell(self, sql: str) -> None:
        """Tell every observer of ``sql``, about to be sent."""
        for observer in self._observers:
            observer(sql)
