"""Keeping the token table in step with user rows.

An ORM ``after_flush`` hook rewrites the tokens of every user whose indexed fields changed in the
flush, so no write path (create, update, sign-up, bulk update, ...) can forget to; writes that
bypass the ORM must call :func:`reindex_users`. ``carebook search reindex`` rebuilds everything.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, bindparam, delete, event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from carebook.db.among import among
from carebook.db.many_rows import insert_rows
from carebook.db.session import CarebookSession
from carebook.events.changes import any_changed
from carebook.search.models import SearchToken
from carebook.search.text import Searchable, shared_prefixes, tokens_of
from carebook.users.models import User

INDEXED = ("first_name", "last_name", "legal_name", "email", "record_identifier", "npi", "dob")
# Copied onto every token row (see SearchToken): a change of these rewrites the tokens too.
COPIED = ("last_name", "role", "active")
_WATCHED = (*INDEXED, "role", "active")
_BATCH = 5000
# Built once, the ids bound (expanding): built per call, with its cache key, it cost every
# update of a patient's indexed fields CPU for nothing (docs/performance.md).
_DELETE_TOKENS = delete(SearchToken).where(
    SearchToken.user_id.in_(bindparam("ids", expanding=True))
)


def searchable(user: Any) -> Searchable:
    """The indexed fields of a user row (ORM object or Core row)."""
    return Searchable(*(getattr(user, name) for name in INDEXED))


def _changed(user: User) -> bool:
    return any_changed(user, _WATCHED)


# (user id, organization id, indexed fields, (last_name, role, active))
Indexed = tuple[int, int, Searchable, tuple[str, str, bool]]


def copied(user: Any) -> tuple[str, str, bool]:
    """The user's columns copied onto each token row."""
    return (user.last_name or "", user.role, bool(user.active))


# The columns of token_tuples' rows, in order.
TOKEN_COLUMNS = ("organization_id", "token", "user_id", "last_name", "role", "active", "shared")
_TOKENS: Table = SearchToken.__table__  # type: ignore[assignment]
_INDEX_ORDER = itemgetter(0, 1)  # organization_id, token


def token_tuples(
    user_id: int, organization_id: int, fields: Searchable, copy: tuple[str, str, bool]
) -> list[tuple[Any, ...]]:
    """The rows of one user's tokens as tuples of TOKEN_COLUMNS."""
    last_name, role, active = copy
    tokens = sorted(tokens_of(fields))
    return [
        (organization_id, token, user_id, last_name, role, active, shared)
        for token, shared in zip(tokens, shared_prefixes(tokens), strict=True)
    ]


def write_tokens(connection: Connection, users: Sequence[Indexed], *, new: bool = False) -> None:
    """Replace the tokens of these users in one go (``new``: users inserted in this
    transaction, who have none yet: nothing to delete)."""
    if not users:
        return
    if not new:
        ids = [user[0] for user in users]
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            connection.execute(_DELETE_TOKENS, {"ids": chunk})
    rows = [row for user in users for row in token_tuples(*user)]
    # In (organization_id, token) order, as both covering indexes start: each index entry then
    # lands next to the previous one instead of anywhere in the index. PostgreSQL spent 30 %
    # less CPU on a batch's tokens (bench.import_writes: 1,000 patients, 8,500 tokens, 200 ->
    # 140 ms, medians of 15); the sort costs the client about 3 ms. A single user's rows
    # (createClient's, an update's) are in that order already.
    rows.sort(key=_INDEX_ORDER)
    insert_rows(connection, _TOKENS, TOKEN_COLUMNS, rows)


def _after_flush(session: Session, _context: Any) -> None:
    # A user inserted by this flush has no tokens yet (a user's tokens go with its row, ON
    # DELETE CASCADE, so no id is ever reused with old ones): no DELETE for them.
    new = [u for u in session.new if isinstance(u, User)]
    changed = [u for u in session.dirty if isinstance(u, User) and _changed(u)]
    for users, fresh in ((new, True), (changed, False)):
        if users:
            write_tokens(
                session.connection(),
                [(u.id, u.organization_id, searchable(u), copied(u)) for u in users],
                new=fresh,
            )


# Every Carebook session follows the hook (carebook.db.session), from this module's import on.
event.listen(CarebookSession, "after_flush", _after_flush)


def written(
    connection: Connection, new: Sequence[Any], changed: Sequence[tuple[Any, Collection[str]]]
) -> None:
    """What the flush hook does, for users written with Core statements (an import batch):
    the tokens of ``new`` users (inserted in this transaction), and the tokens rewritten of the
    ``changed`` ones, each with the attribute keys its write changed, whose indexed or copied
    fields are among them. The users are rows or records with the users table's attributes."""
    watched = frozenset(_WATCHED)
    rewritten = [user for user, keys in changed if not watched.isdisjoint(keys)]
    for users, fresh in ((new, True), (rewritten, False)):
        if users:
            write_tokens(
                connection,
                [(u.id, u.organization_id, searchable(u), copied(u)) for u in users],
                new=fresh,
            )


def restamp_active(connection: Connection, user_ids: Sequence[int], active: bool) -> None:
    """Copy a new active flag onto these users' tokens, for a set-based archive or
    reactivation that bypassed the flush hook (accounts/bulk_writes.py): their indexed fields
    did not change, so their tokens are the same rows with the new copy of ``active``."""
    for start in range(0, len(user_ids), _BATCH):
        chunk = user_ids[start : start + _BATCH]
        owned = among(connection.dialect, SearchToken.user_id, chunk)
        connection.execute(update(SearchToken).where(owned).values(active=active))


def reindex_users(connection: Connection, organization_id: int | None = None) -> int:
    """Rebuild the tokens of every user (of one organization, if given); returns the user count.

    Walks users by id in batches (keyset), so memory stays flat at millions of rows.
    """
    columns = (
        User.id,
        User.organization_id,
        *(getattr(User, n) for n in INDEXED),
        *(getattr(User, n) for n in COPIED),
    )
    last_id, count = 0, 0
    while True:
        query = select(*columns).where(User.id > last_id).order_by(User.id).limit(_BATCH)
        if organization_id is not None:
            query = query.where(User.organization_id == organization_id)
        chunk = connection.execute(query).all()
        if not chunk:
            return count
        end = 2 + len(INDEXED)
        write_tokens(
            connection,
            [
                (r[0], r[1], Searchable(*r[2:end]), (r[end] or "", r[end + 1], bool(r[end + 2])))
                for r in chunk
            ],
        )
        count += len(chunk)
        last_id = chunk[-1][0]
