"""The patient list (``users`` / ``usersCount``) and its keyword search (docs/search.md).

The rest of Carebook reaches the list through :func:`page` and :func:`count` only, with a
:class:`ListArgs` and the application's :class:`SearchState`; besides these it imports the
token index's write-side hook (``search.index``) and the tables (``search.models``,
``search.counters``). Everything else here is the list's own business.
"""

from carebook.search.api import count, page
from carebook.search.arguments import SORT_KEYS, ListArgs
from carebook.search.state import SearchState
from carebook.users.list_limits import ListArgumentError

__all__ = ["SORT_KEYS", "ListArgs", "ListArgumentError", "SearchState", "count", "page"]
