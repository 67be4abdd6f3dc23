"""The arguments of the patient list (``users`` / ``usersCount``), parsed and checked.

:class:`ListArgs` is what ``search.page`` and ``search.count`` take. Its fields are of three
kinds: the keywords and ``active_status`` (which the counters and the token index can answer),
paging and ordering, and *filters*: every other field. A filter at anything but its default
makes the list leave the counted fast paths (``only_active_status``), so a filter added here is
honoured by the counters and deep pages without anyone having to list it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

from carebook.users.list_limits import MAX_PAGE_SIZE, ListArgumentError

ACTIVE_STATUSES = ("active", "archived")

# Sort keys: Healthie's UserOrderKeys, lower-cased (the seed's sort_by values).
SORT_KEYS = (
    "email_asc", "email_desc", "first_name_asc", "first_name_desc", "last_name_asc",
    "last_name_desc", "created_at_asc", "created_at_desc", "updated_at_asc", "updated_at_desc",
    "group_name_asc", "group_name_desc", "provider_name_asc", "provider_name_desc",
    "next_appt_date_asc", "next_appt_date_desc",
)  # fmt: skip
LAST_NAME_SORTS = ("last_name_asc", "last_name_desc")


@dataclass(frozen=True)
class ListArgs:
    """Every argument of ``users`` / ``usersCount`` after parsing.

    Sequences are kept as tuples, so that an empty list and the default compare equal.
    """

    keywords: str | None = None
    active_status: str | None = None
    group_id: int | None = None
    provider_id: int | None = None
    limited_to_provider: bool = False
    conversation_id: int | None = None
    expect_conversation_id: bool = False
    show_all_by_default: bool = True
    ids: Sequence[int] | None = None
    tag_ids: Sequence[int] = field(default_factory=tuple)
    only_with_card: bool = False
    sort: str = "last_name_desc"
    offset: int = 0
    limit: int | None = 10
    # A whole list (limit None) reads at most this many rows: the caller's cap plus one.
    whole_list_rows: int | None = None
    # The attributes of each patient row the caller reads (None: all of them); the others
    # are not read from the database (search/rows.py).
    columns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.ids is not None:
            object.__setattr__(self, "ids", tuple(self.ids))
        object.__setattr__(self, "tag_ids", tuple(self.tag_ids))
        if self.sort not in SORT_KEYS:
            raise ListArgumentError(
                f"Unknown sort '{self.sort[:40]}'; use one of {', '.join(SORT_KEYS)}"
            )
        if self.active_status is not None and self.active_status not in ACTIVE_STATUSES:
            raise ListArgumentError("active_status must be 'active' or 'archived'")
        if self.offset < 0:
            raise ListArgumentError("offset can't be negative")
        if self.limit is not None and not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise ListArgumentError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")


# The fields that are not filters. The counted paths answer ``keywords`` and ``active_status``
# themselves, and each handles ``show_all_by_default`` (false without keywords: nothing);
# the rest say which part of the list, in which order.
NOT_FILTERS = frozenset(
    {
        "keywords",
        "active_status",
        "show_all_by_default",
        "sort",
        "offset",
        "limit",
        "whole_list_rows",
        "columns",
    }
)


def _default(found: Field[Any]) -> Any:
    if found.default_factory is not MISSING:
        return found.default_factory()
    return found.default


# Every filter and its default, derived from the dataclass (see the module docstring).
FILTER_DEFAULTS: dict[str, Any] = {
    f.name: _default(f) for f in fields(ListArgs) if f.name not in NOT_FILTERS
}


def only_active_status(args: ListArgs) -> bool:
    """True when no argument but keywords and active_status narrows the list."""
    return all(getattr(args, name) == default for name, default in FILTER_DEFAULTS.items())


def active(args: ListArgs) -> bool | None:
    """The ``active`` flag ``active_status`` asks for; None for both."""
    return None if args.active_status is None else args.active_status == "active"
