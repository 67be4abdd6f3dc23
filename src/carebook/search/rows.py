"""The SELECT of a page's patient rows: the caller's visible patients, only the columns asked.

The two commonest reads of rows (a first page without keywords or filters, and a keyword page's
rows by id) are built once per caller, sort and columns, with the page as bound values:
building a statement and deriving its cache key cost more CPU than the rest of a page's SQL.
"""

from __future__ import annotations

from sqlalchemy import Select, bindparam

from carebook.auth.actor import Actor
from carebook.search.arguments import ListArgs
from carebook.search.ordering import sorted_by
from carebook.search.state import SearchState
from carebook.users.models import User
from carebook.users.queries import columns_only
from carebook.users.scoping import visible_patients


def patient_rows(actor: Actor, args: ListArgs) -> Select[User]:
    """``visible_patients(actor)``, loading only ``args.columns`` of each row when given.

    The other attributes raise when read rather than load one by one (issue 28: a page of ten
    users read every column of each though its document wanted a few).
    """
    query = visible_patients(actor)
    if args.columns is None:
        return query
    return query.options(columns_only(args.columns))


# The page's place (offset, size) and a keyword page's ids, bound at execution.
OFFSET, LIMIT, IDS = "page_offset", "page_limit", "page_ids"


def plain_page(state: SearchState, actor: Actor, args: ListArgs) -> Select[User]:
    """A page of the caller's patients in ``args.sort`` order, no condition, bound OFFSET and
    LIMIT (not for sorts whose SQL holds the time: next_appt_date)."""
    key = ("plain", actor, args.sort, args.columns)

    def build() -> Select[User]:
        query = sorted_by(patient_rows(actor, args), args.sort)
        return query.offset(bindparam(OFFSET)).limit(bindparam(LIMIT))

    return state.rows_statements.built(key, build)


def rows_by_id(state: SearchState, actor: Actor, args: ListArgs) -> Select[User]:
    """The caller's patients among the bound ids (IDS, a list)."""
    key = ("ids", actor, args.columns)
    return state.rows_statements.built(
        key, lambda: patient_rows(actor, args).where(User.id.in_(bindparam(IDS, expanding=True)))
    )
