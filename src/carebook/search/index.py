"""Keeping the token table in step with user rows.

An ORM ``after_flush`` hook rewrites the tokens of every user whose indexed fields changed in the
flush, so no write path (create, update, sign-up, bulk update, ...) can forget to; writes that
bypass the ORM must call :func:`reindex_users`. ``carebook search reindex`` rebuilds everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from carebook.db.session import CarebookSession
from carebook.search.models import SearchToken
from carebook.search.text import Searchable, shared_prefixes, tokens_of
from carebook.users.models import User

INDEXED = ("first_name", "last_name", "legal_name", "email", "record_identifier", "npi", "dob")
# Copied onto every token row (see SearchToken): a change of these rewrites the tokens too.
COPIED = ("last_name", "role", "active")
_WATCHED = (*INDEXED, "role", "active")
_BATCH = 5000


def searchable(user: Any) -> Searchable:
    """The indexed fields of a user row (ORM object or Core row)."""
    return Searchable(*(getattr(user, name) for name in INDEXED))


def _changed(user: User) -> bool:
    state = inspect(user)
    return any(state.attrs[name].history.has_changes() for name in _WATCHED)


# (user id, organization id, indexed fields, (last_name, role, active))
Indexed = tuple[int, int, Searchable, tuple[str, str, bool]]


def copied(user: Any) -> tuple[str, str, bool]:
    """The user's columns copied onto each token row."""
    return (user.last_name or "", user.role, bool(user.active))


def token_rows(
    user_id: int, organization_id: int, fields: Searchable, copy: tuple[str, str, bool]
) -> list[dict[str, Any]]:
    """The rows of one user's tokens."""
    last_name, role, active = copy
    tokens = sorted(tokens_of(fields))
    return [
        {
            "organization_id": organization_id,
            "token": token,
            "user_id": user_id,
            "last_name": last_name,
            "role": role,
            "active": active,
            "shared": shared,
        }
        for token, shared in zip(tokens, shared_prefixes(tokens), strict=True)
    ]


def write_tokens(connection: Connection, users: Sequence[Indexed]) -> None:
    """Replace the tokens of these users in one go."""
    if not users:
        return
    ids = [user[0] for user in users]
    connection.execute(delete(SearchToken).where(SearchToken.user_id.in_(ids)))
    rows = [row for user in users for row in token_rows(*user)]
    for start in range(0, len(rows), _BATCH):
        connection.execute(insert(SearchToken), rows[start : start + _BATCH])


def _after_flush(session: Session, _context: Any) -> None:
    # session.new builds a new set on each access: read once (a flush of 1,000 new users
    # asked it 1,000 times).
    new = session.new
    dirty: Iterable[Any] = list(new) + list(session.dirty)
    users = [u for u in dirty if isinstance(u, User) and (u in new or _changed(u))]
    if users:
        write_tokens(
            session.connection(),
            [(u.id, u.organization_id, searchable(u), copied(u)) for u in users],
        )


# Every Carebook session follows the hook (carebook.db.session), from this module's import on.
event.listen(CarebookSession, "after_flush", _after_flush)


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
