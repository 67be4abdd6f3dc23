"""Deep pages of the patient list in last-name order, found from the block counters.

``OFFSET 100000`` makes the database walk 100,000 entries of the sort index on every request.
``list_blocks`` (migration 0014) counts the organization's patients per block of last names
(fixed starts '', 'A', 'Aa' ... 'zz', 'À' ...), exact in every snapshot. Adding the blocks'
totals up in order finds the block holding the page's first patient and how many patients come
before that block, so the page is a seek to the block's start plus a skip within the block: the
walk covers at most ~1,800 blocks however deep the page, and the skip at most one block.

The walk and the skip run in ascending order: a page of the descending sort is the same
patients as the ascending positions ``[total - offset - limit, total - offset)``, and the outer
query puts them in the list's order. One statement, so one snapshot on every database.

Applies to an unfiltered list (``active_status`` aside) sorted by last name, for a caller who
sees every patient of the organization; anything else keeps the sort index's ``OFFSET``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, ColumnElement, Integer, Select, bindparam, case, func, select
from sqlalchemy.orm import InstrumentedAttribute

from carebook.auth.actor import Actor
from carebook.search.counters import ListBlock
from carebook.users.models import Role, User

# Below this offset the sort index's own OFFSET is as cheap as adding up the blocks.
COUNTED_OFFSET = 1000


def _total(active: bool | None) -> ColumnElement[int] | InstrumentedAttribute[int]:
    """The counter column(s) of the patients the list shows for ``active_status``."""
    if active is None:
        return ListBlock.active_total + ListBlock.archived_total
    return ListBlock.active_total if active else ListBlock.archived_total


def _not_negative(value: ColumnElement[int]) -> ColumnElement[int]:
    return case((value < 0, 0), else_=value)


# Values are bound: the statement is built once per shape (SearchState.deep_page_statements), as
# building it cost more CPU than running it (py-spy: 19 % of a deep page request's samples
# against 16 % for executing it).
_ORGANIZATION = bindparam("page_organization_id", type_=Integer)
_OFFSET = bindparam("page_offset", type_=Integer)
_LIMIT = bindparam("page_limit", type_=Integer)


def page_parameters(actor: Actor, offset: int, limit: int) -> dict[str, Any]:
    """The values bound into :func:`page_ids_statement`."""
    return {
        "page_organization_id": actor.organization_id,
        "page_offset": offset,
        "page_limit": limit,
    }


def _organizations_blocks(*columns: Any) -> Select[Any]:
    """``columns`` of the organization's patient blocks."""
    return select(*columns).where(
        ListBlock.organization_id == _ORGANIZATION, ListBlock.role == Role.PATIENT
    )


def _span(active: bool | None, descending: bool) -> CTE:
    """The page as ascending positions: ``first`` and how many (``size``)."""
    if not descending:
        return select(_OFFSET.label("first"), _LIMIT.label("size")).cte("span")
    everyone = func.coalesce(func.sum(_total(active)), 0)
    counted = _organizations_blocks(everyone.label("total")).subquery("counted")
    end = counted.c.total - _OFFSET  # the ascending position just past the page
    first = _not_negative(end - _LIMIT)
    return select(first.label("first"), _not_negative(end - first).label("size")).cte("span")


def _boundary(span: CTE, active: bool | None) -> CTE:
    """The block holding position ``first``, the skip within it, and the page's size.

    A running sum over the blocks in order; exactly one block has the position between its
    running sums (empty blocks have none), so no ORDER BY is needed and the databases stop
    reading at that block.
    """
    total = _total(active)
    walk = _organizations_blocks(
        ListBlock.start,
        total.label("total"),
        func.sum(total).over(order_by=ListBlock.start, rows=(None, 0)).label("upto"),
    ).subquery("walk")
    before = walk.c.upto - walk.c.total
    return (
        select(walk.c.start, (span.c.first - before).label("skip"), span.c.size)
        .where(walk.c.upto > span.c.first, before <= span.c.first)
        .limit(1)
        .cte("boundary")
    )


def page_ids_statement(active: bool | None, descending: bool) -> Select[int]:
    """One statement: the ids of a page (in ascending last-name order), values bound.

    Execute it with :func:`page_parameters`. Beyond the last patient the boundary is empty,
    and so is the page.
    """
    boundary = _boundary(_span(active, descending), active)

    def scalar(column: ColumnElement[int]) -> ColumnElement[int]:
        return func.coalesce(select(column).scalar_subquery(), 0)

    query = select(User.id).where(
        User.organization_id == _ORGANIZATION,
        User.role == Role.PATIENT,
        User.last_name >= select(boundary.c.start).scalar_subquery(),
    )
    if active is not None:
        query = query.where(User.active.is_(active))
    query = query.order_by(User.last_name.asc(), User.id.asc())
    page = query.offset(scalar(boundary.c.skip)).limit(scalar(boundary.c.size)).subquery("page")
    # The LIMIT of the page's size tells PostgreSQL's planner that a page is a handful of rows:
    # with only the computed one it guessed 35,000 and hashed the whole users table.
    return select(page.c.id).limit(_LIMIT)
