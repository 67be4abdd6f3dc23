"""Run-time bounds of lists: whole lists (``should_paginate: false``) and lists inside objects.

Every list field is bounded where it runs, with the same bound the cost estimate uses
(:mod:`.cost`): a page size, or one of the caps below. A list over its cap is refused with a
BAD_USER_INPUT error naming the cap, never cut short silently.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sized
from typing import Any, ParamSpec, TypeVar

from carebook.config import Settings
from carebook.graphql.errors import BAD_USER_INPUT, CodedError

P = ParamSpec("P")
R = TypeVar("R", bound=Sized | None)
# Set on resolvers wrapped by :func:`capped`; the schema walk of the tests looks for it.
CAPPED = "__carebook_capped__"


def unpaginated_fetch_limit(settings: Settings) -> int:
    """How many rows to fetch: one over the cap tells a list that is too long from one that fits."""
    return settings.unpaginated_list_max_rows + 1


def check_cap(fetched: int, settings: Settings, *, what: str) -> None:
    """A BAD_USER_INPUT error when more rows were fetched than the cap allows."""
    cap = settings.unpaginated_list_max_rows
    if fetched > cap:
        raise CodedError(
            f"should_paginate: false returns at most {cap} {what}, and this list has more; "
            "ask for pages instead (page_size with offset or after).",
            BAD_USER_INPUT,
            limit=cap,
        )


def check_nested(count: int, settings: Settings, *, field: str, instead: str) -> None:
    """A BAD_USER_INPUT error when a list inside an object holds more than its cap."""
    check_rows(count, settings.nested_list_max_rows, field=field, instead=instead)


def check_rows(count: int, cap: int, *, field: str, instead: str) -> None:
    """A BAD_USER_INPUT error naming ``field`` when a list holds more than ``cap`` items."""
    if count > cap:
        raise CodedError(
            f"{field} returns at most {cap} items, and this list has more; {instead}.",
            BAD_USER_INPUT,
            limit=cap,
        )


def capped(
    field: str, instead: str
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Refuse (see :func:`check_nested`) when the resolver's list is over the nested cap.

    ``field`` names the field in the message (``UserGroup.users``), ``instead`` tells what to
    ask for instead. The resolver must take ``info``. Put it under ``@audited``: a refused list
    is not handed out, so it is not recorded as read.
    """

    def wrap(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        if "info" not in inspect.signature(resolver).parameters:
            raise TypeError(f"{resolver.__qualname__} must take info to be capped")

        @functools.wraps(resolver)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            value = await resolver(*args, **kwargs)
            # A page (should_paginate: true) is bounded by its page size, not by the cap.
            if value is not None and kwargs.get("should_paginate") is not True:
                info: Any = kwargs["info"]
                check_nested(len(value), info.context.settings, field=field, instead=instead)
            return value

        setattr(wrapper, CAPPED, True)
        return wrapper

    return wrap
