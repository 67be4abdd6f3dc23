"""Which fields of a row a write changed, from what the session already holds.

Services call :func:`changed_attributes` after setting a row's attributes and before the flush
that writes them (a flush resets the history). The ORM compares each attribute with the value
it was loaded with, so a field set to its current value does not count and no statement is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import inspect


def changed_attributes(row: object, names: Mapping[str, str]) -> list[str]:
    """The wire names (``names``' values) of ``row``'s attributes (their keys) that changed.

    An attribute that was never loaded (a deferred column) counts as changed when it is set:
    telling it from an equal value would cost a SELECT.
    """
    state = inspect(row)
    attrs = state.attrs
    return [wire for key, wire in names.items() if attrs[key].history.has_changes()]
