"""What every list of people shares: the largest page and the error of a bad list argument.

Here, below both lists, so that the patient list (``carebook.search``) and the user-group
lists (``carebook.user_groups``) agree on them without one importing the other.
"""

from __future__ import annotations

MAX_PAGE_SIZE = 100


class ListArgumentError(ValueError):
    """An argument of a list is invalid (unknown sort, negative offset, ...)."""
