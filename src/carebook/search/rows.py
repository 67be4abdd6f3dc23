"""The SELECT of a page's patient rows: the caller's visible patients, only the columns asked."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Select
from sqlalchemy.orm import load_only
from sqlalchemy.orm.strategy_options import _AbstractLoad

from carebook.auth.actor import Actor
from carebook.search.arguments import ListArgs
from carebook.users.models import User
from carebook.users.scoping import visible_patients


def patient_rows(actor: Actor, args: ListArgs) -> Select[User]:
    """``visible_patients(actor)``, loading only ``args.columns`` of each row when given.

    The other attributes raise when read rather than load one by one (issue 28: a page of ten
    users read every column of each though its document wanted a few).
    """
    query = visible_patients(actor)
    if args.columns is None:
        return query
    return query.options(_only(args.columns))


@lru_cache(maxsize=256)
def _only(columns: tuple[str, ...]) -> _AbstractLoad:
    """The loader option of ``columns``, built once: building one costs more than the rest of
    the statement (a few documents, hence a few column sets, are sent again and again)."""
    return load_only(*(getattr(User, name) for name in columns), raiseload=True)
