"""The list's sort orders as SQL: each sort key with the id as tie-breaker, NULLs last."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.orm import aliased

from carebook.db.base import utcnow
from carebook.scheduling.queries import next_appt_start
from carebook.user_groups.models import UserGroup
from carebook.users.models import User

# Built once: aliasing a mapped class per request cost a quarter of a list request's CPU. A
# constant, not a cache: it never changes.
PROVIDER = aliased(User, name="provider")


def _direction(column: Any, descending: bool) -> Any:
    return column.desc() if descending else column.asc()


def sorted_by(query: Select[User], sort: str, driving: bool = False) -> Select[User]:
    """Apply a sort key with the id as tie-breaker, NULLs last in both directions.

    When a keyword drives the query the candidates are few: the sort keys are wrapped in no-op
    expressions so the database sorts those candidates rather than walking the whole sort index
    and testing each row (SQLite would otherwise prefer the index, because of the LIMIT).
    """
    name, _, direction = sort.rpartition("_")
    descending = direction == "desc"
    columns: list[Any]
    nullable = True  # outer-joined columns are NULL for patients without a group/provider
    if name == "group_name":
        query = query.outerjoin(UserGroup, UserGroup.id == User.user_group_id)
        columns = [UserGroup.name]
    elif name == "provider_name":
        provider = PROVIDER
        query = query.outerjoin(provider, provider.id == User.dietitian_id)
        columns = [provider.last_name, provider.first_name]
    elif name == "next_appt_date":
        # The same value User.next_appt_date shows; patients without one come last.
        columns = [next_appt_start(User.id, utcnow())]
    else:
        columns = [getattr(User, name)]
        nullable = bool(columns[0].nullable)
    # NULLS LAST only where a value can be NULL: on NOT NULL columns it would stop SQLite from
    # reading the sort index in order.
    if driving:
        columns = [func.coalesce(c, c) for c in columns]
    order: list[Any] = [
        _direction(c, descending).nulls_last() if nullable else _direction(c, descending)
        for c in columns
    ]
    order.append(_direction(User.id + 0 if driving else User.id, descending))
    return query.order_by(*order)
