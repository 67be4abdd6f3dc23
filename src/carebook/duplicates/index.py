"""Keeping the blocking keys and the name tallies (duplicates/keys.py) in step with patient rows.

Like the search index (search/index.py): an ORM ``after_flush`` hook rewrites the keys of every
patient whose keyed fields changed, so no write path forgets, and re-checks an existing patient's
pairs (a corrected record leaves the list, a new likeness joins it; new patients are checked by
their creation, duplicates/service.py). Only active patients have keys: an archived record
(merged ones included) is never offered as a duplicate, nor counted in a name tally. Writes
that bypass the ORM (bulk loads) call :func:`reindex`; ``carebook duplicates reindex`` rebuilds
everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from carebook.auth.roles import Role
from carebook.db.many_rows import insert_rows
from carebook.db.session import CarebookSession
from carebook.duplicates.keys import keys_of, tally_of
from carebook.duplicates.models import MatchKey, NameKey
from carebook.duplicates.scan import recheck
from carebook.events.changes import any_changed
from carebook.users.models import User

KEYED = ("first_name", "last_name", "dob", "email_key", "phone_number")
_WATCHED = (*KEYED, "role", "active", "organization_id")
BATCH = 5000


def _changed(user: User, names: Iterable[str] = _WATCHED) -> bool:
    return any_changed(user, names)


def _recheck(connection: Connection, users: Iterable[User]) -> None:
    """Re-check the pairs of active patients whose keyed facts changed, by organization.

    Bounded like a creation's check: only blocks within the scan's cap are compared.
    """
    by_organization: dict[int, list[int]] = defaultdict(list)
    for user in users:
        if user.role == Role.PATIENT and user.active and _changed(user, (*KEYED, "active")):
            by_organization[user.organization_id].append(user.id)
    recheck_all(connection, by_organization)


def _keyed(user: Any) -> bool:
    """Only active patients have keys and name tallies."""
    return bool(user.role == Role.PATIENT and user.active)


def key_rows(users: Iterable[Any]) -> list[tuple[int, int, int]]:
    """(organization id, key, user id) of these users' blocking keys (rows with id,
    organization_id, role, active and KEYED), in that order: the primary key's, so that many
    users' keys go into it each next to the previous one instead of anywhere (PostgreSQL
    spent a quarter less CPU on a batch of 1,000 patients' keys, bench.import_writes)."""
    return sorted((u.organization_id, key, u.id) for u in users if _keyed(u) for key in keys_of(u))


def name_rows(users: Iterable[Any]) -> list[tuple[int, int, int]]:
    """(user id, organization id, name tally) of these users (as :func:`key_rows` takes them)."""
    return [
        (u.id, u.organization_id, tally)
        for u in users
        if _keyed(u) and (tally := tally_of(u)) is not None
    ]


_KEYS: Table = MatchKey.__table__  # type: ignore[assignment]
_KEY_COLUMNS = ("organization_id", "key", "user_id")
_NAMES: Table = NameKey.__table__  # type: ignore[assignment]
_NAME_COLUMNS = ("user_id", "organization_id", "key")
# Built once, the ids bound (expanding): built per call, with their cache keys, they cost an
# updateClient about 2 % of its CPU (py-spy, docs/performance.md).
_DELETE_KEYS = delete(MatchKey).where(MatchKey.user_id.in_(bindparam("ids", expanding=True)))
_DELETE_NAMES = delete(NameKey).where(NameKey.user_id.in_(bindparam("ids", expanding=True)))


def write_keys(connection: Connection, users: Sequence[Any], *, new: bool = False) -> None:
    """Replace the keys and name tallies of these users in one go (``new``: users inserted in
    this transaction, who have none yet: nothing to delete)."""
    if not users:
        return
    if not new:
        ids = [u.id for u in users]
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            connection.execute(_DELETE_KEYS, {"ids": chunk})
            connection.execute(_DELETE_NAMES, {"ids": chunk})
    insert_rows(connection, _KEYS, _KEY_COLUMNS, key_rows(users))
    insert_rows(connection, _NAMES, _NAME_COLUMNS, name_rows(users))


def _after_flush(session: Session, _context: Any) -> None:
    # A user inserted by this flush has no keys yet (ON DELETE CASCADE): no DELETE for them.
    new = [u for u in session.new if isinstance(u, User)]
    changed = [u for u in session.dirty if isinstance(u, User) and _changed(u)]
    if new:
        write_keys(session.connection(), new, new=True)
    if changed:
        write_keys(session.connection(), changed)
        _recheck(session.connection(), changed)


# Every Carebook session follows the hook (carebook.db.session), from this module's import on.
event.listen(CarebookSession, "after_flush", _after_flush)


def written(
    connection: Connection, new: Sequence[Any], changed: Sequence[tuple[Any, Collection[str]]]
) -> dict[int, list[int]]:
    """What the flush hook writes, for patients written with Core statements (an import batch):
    the keys of ``new`` ones (inserted in this transaction), and for the ``changed`` ones, each
    with the attribute keys its write changed, the keys rewritten when a keyed fact, the role,
    the status or the organization changed. Returns, by organization, the patients whose pairs
    must be re-checked (a keyed fact or the status of an active patient changed): the caller
    runs :func:`recheck_all` in the same transaction, with the planning a check's reads need."""
    watched, rechecked = frozenset(_WATCHED), frozenset((*KEYED, "active"))
    if new:
        write_keys(connection, new, new=True)
    rekeyed = [user for user, keys in changed if not watched.isdisjoint(keys)]
    if rekeyed:
        write_keys(connection, rekeyed)
    by_organization: dict[int, list[int]] = defaultdict(list)
    for user, keys in changed:
        if user.role == Role.PATIENT and user.active and not rechecked.isdisjoint(keys):
            by_organization[user.organization_id].append(user.id)
    return dict(by_organization)


def recheck_all(connection: Connection, by_organization: Mapping[int, Sequence[int]]) -> None:
    """Re-check the pairs of these patients (:func:`written`'s answer), by organization."""
    for organization_id, ids in by_organization.items():
        recheck(connection, organization_id, ids)


def status_changed(connection: Connection, users: Sequence[User]) -> None:
    """What the hook does for patients whose active flag a set-based write changed without a
    flush (accounts/bulk_writes.py): their keys rewritten (none when archived), and the pairs
    of the reactivated ones checked again."""
    write_keys(connection, users)
    by_organization: dict[int, list[int]] = defaultdict(list)
    for user in users:
        if user.role == Role.PATIENT and user.active:
            by_organization[user.organization_id].append(user.id)
    recheck_all(connection, by_organization)


_COLUMNS = (
    User.id,
    User.organization_id,
    User.role,
    User.active,
    *(getattr(User, n) for n in KEYED),
)


def reindex(connection: Connection, organization_id: int) -> int:
    """Rebuild the keys and name tallies of one organization's patients; returns how many were
    walked.

    Walks the patients by id in batches (keyset), so memory stays flat at millions of rows.
    """
    connection.execute(delete(MatchKey).where(MatchKey.organization_id == organization_id))
    connection.execute(delete(NameKey).where(NameKey.organization_id == organization_id))
    last_id, count = 0, 0
    while True:
        query = (
            select(*_COLUMNS)
            .where(User.organization_id == organization_id, User.role == Role.PATIENT)
            .where(User.id > last_id)
            .order_by(User.id)
            .limit(BATCH)
        )
        chunk = connection.execute(query).all()
        if not chunk:
            return count
        insert_rows(connection, _KEYS, _KEY_COLUMNS, key_rows(chunk))
        insert_rows(connection, _NAMES, _NAME_COLUMNS, name_rows(chunk))
        count += len(chunk)
        last_id = chunk[-1].id
