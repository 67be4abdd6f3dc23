"""The cap on lists asked for whole (``should_paginate: false``)."""

from __future__ import annotations

from carebook.config import Settings
from carebook.graphql.errors import BAD_USER_INPUT, CodedError


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
