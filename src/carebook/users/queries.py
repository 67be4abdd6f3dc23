"""Reads of users, always through the actor's visibility scope, and DataLoader batch functions."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Exists, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, load_only, undefer_group
from sqlalchemy.orm.strategy_options import _AbstractLoad

from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.db.among import among
from carebook.db.engine import Database, SessionRunner
from carebook.db.rows import detached, entities
from carebook.user_notifications.models import UserNotification
from carebook.users.models import PROFILE_GROUP, CareTeamMember, User, patient_email_of
from carebook.users.scoping import visible_patients, visible_users

STAFF_ROLES = (Role.PROVIDER.value, Role.STAFF.value)


# The statements of the one-user look-ups of every update, per actor (the target id bound):
# built and keyed per call they cost several per cent of an updateClient's CPU. An actor is
# a frozen value (its scope, role and zone), so equal actors share a statement; bounded.
@functools.lru_cache(maxsize=512)
def _one_user(actor: Actor, patients_only: bool) -> Select[User]:
    scope = visible_patients(actor) if patients_only else visible_users(actor)
    return scope.where(User.id == bindparam("target_user_id"))


async def get_visible_user(session: AsyncSession, actor: Actor, user_id: int) -> User | None:
    """The user with this id if ``actor`` may see them, else None."""
    result = await session.execute(_one_user(actor, False), {"target_user_id": user_id})
    return result.scalar_one_or_none()


async def get_visible_user_and_unseen(
    session: AsyncSession, actor: Actor, user_id: int
) -> tuple[User | None, bool]:
    """The visible user (or None) and whether ``actor`` has unseen notifications about them.

    One statement instead of two: ``user(id)`` is the hottest read, and its ``clear_notifs``
    check would otherwise cost a second round trip on every call.
    """
    query = user_and_unseen_query(actor)
    row = (await session.execute(query, {"target_user_id": user_id})).first()
    return (row[0], bool(row[1])) if row is not None else (None, False)


async def read_visible_user_and_unseen(
    database: Database,
    actor: Actor,
    user_id: int,
    *,
    within: SessionRunner | None = None,
    columns: tuple[str, ...] | None = None,
    unseen: bool = True,
) -> tuple[User | None, bool]:
    """:func:`get_visible_user_and_unseen` as the database's single-row read: the same
    statement (built once per actor and database), without a session of its own (``within``:
    the caller's, if the database needs one); the user comes detached.

    ``columns``: the attributes the caller reads (None: the whole record); the others are left
    unread (reading one raises). ``unseen``: False when the caller does not need the unseen
    notifications check (then always False), which is then not run.
    """
    key = (_USER_AND_UNSEEN, actor, columns, unseen)
    query = database.statement(key, lambda: user_and_unseen_query(actor, columns, unseen=unseen))
    row = await database.read_row(query, {"target_user_id": user_id}, within=within)
    if row is None:
        return None, False
    return detached(User, row), unseen and bool(row.unseen)


# The key of user_and_unseen_query's statements in a Database's cache.
_USER_AND_UNSEEN = "users.user_and_unseen"


def user_and_unseen_query(
    actor: Actor, columns: tuple[str, ...] | None = None, *, unseen: bool = True
) -> Select[Any]:
    """The statement for one actor: only the target id varies (a bound value), so callers on the
    hot path build it once (building it and deriving its cache key took about a tenth of a
    ``user(id)`` request's CPU). ``columns`` and ``unseen``: see read_visible_user_and_unseen."""
    if columns is None:
        # One row: its patient-record columns cost little here and spare the record's
        # DataLoader a statement. Undeferred, the SQL also has every column of
        # selected_columns, as the single-row read's prepared statements expect.
        query = visible_users(actor).options(undefer_group(PROFILE_GROUP))
    else:
        query = visible_users(actor).options(load_only(*(getattr(User, c) for c in columns)))
    if unseen:
        query = query.add_columns(_unseen(actor).label("unseen"))
    return query.where(User.id == bindparam("target_user_id"))


def _unseen(actor: Actor) -> Exists:
    """Whether ``actor`` has notifications about the user read that they have not seen."""
    return (
        select(UserNotification.id)
        .where(
            UserNotification.recipient_id == actor.user_id,
            UserNotification.patient_id == User.id,
            UserNotification.seen_at.is_(None),
        )
        .exists()
    )


async def get_visible_patient(session: AsyncSession, actor: Actor, user_id: int) -> User | None:
    """The patient with this id if ``actor`` may see them, else None."""
    result = await session.execute(_one_user(actor, True), {"target_user_id": user_id})
    return result.scalar_one_or_none()


async def visible_patients_by_ids(
    session: AsyncSession,
    actor: Actor,
    ids: Sequence[int],
    columns: tuple[str, ...] | None = None,
) -> dict[int, User]:
    """The visible patients among ``ids``, keyed by id (missing ones are simply absent).

    ``columns``: only those attributes are loaded, the others raise when read (a thousand rows
    of every column cost bulkUpdateClients more than its UPDATE, issue 28); None: all of them.
    The patients come detached, made by hand (db/rows.py::entities), not through the session:
    the ORM's loading set a raising loader on each unread attribute of each row (25,000 calls
    for a bulk update of 1,000), and the ids go as one array on PostgreSQL (db/among.py).
    """
    dialect = session.get_bind().dialect
    query = visible_patients(actor).where(among(dialect, User.id, ids))
    if columns is not None:
        query = query.options(columns_only(columns))
    return {user.id: user for user in await entities(session, User, query)}


@functools.lru_cache(maxsize=256)
def columns_only(columns: tuple[str, ...]) -> _AbstractLoad:
    """The loader option that loads only ``columns`` of a users row, the others raising when
    read; built once per set: building one costs more than the rest of the statement (a few
    documents, hence a few column sets, are sent again and again)."""
    return load_only(*(getattr(User, name) for name in columns), raiseload=True)


async def visible_patient_ids_in_groups(
    session: AsyncSession, actor: Actor, group_ids: Sequence[int]
) -> list[int]:
    """The ids of the active patients ``actor`` sees in these user groups, by id."""
    query = (
        visible_patients(actor)
        .where(User.user_group_id.in_(group_ids), User.active.is_(True))
        .with_only_columns(User.id)
        .order_by(User.id)
    )
    return list((await session.execute(query)).scalars())


async def find_patient_by_email(session: AsyncSession, actor: Actor, email_key: str) -> User | None:
    """The visible patient with this (lower-cased) email."""
    # The organization's patient with this email, found through its index (patient_email_of:
    # one row at most), then held to the actor's view by id, in one statement: two would tell
    # a patient, by the second's round trip, that another patient has the address (the oracle
    # docs/security.md closes). With the organization and role stated beside the email, SQLite,
    # which plans without statistics, read every patient of the organization by role.
    owner = aliased(User)
    by_email = select(owner.id).where(patient_email_of(actor.organization_id, email_key, owner))
    query = visible_patients(actor).where(User.id == by_email.limit(1).scalar_subquery())
    return (await session.execute(query)).scalars().first()


async def get_staff_member(
    session: AsyncSession, organization_id: int, user_id: int
) -> User | None:
    """A provider or staff member of the organization, or None."""
    query = select(User).where(
        User.id == user_id, User.organization_id == organization_id, User.role.in_(STAFF_ROLES)
    )
    return (await session.execute(query)).scalar_one_or_none()


# The checks every createClient, updateClient and signUp makes, built once with bound
# parameters: building a statement and deriving its cache key on each call cost about a tenth
# of a creation's CPU on the event loop (py-spy, docs/performance.md); a statement object reused
# keeps its cache key.
_ORG = User.organization_id == bindparam("org")
_STAFF_IDS = select(User.id).where(
    User.id.in_(bindparam("ids", expanding=True)), _ORG, User.role.in_(STAFF_ROLES)
)


def _one_row(*where: ColumnElement[bool]) -> tuple[Select[int], Select[int]]:
    """A statement that finds at most one user id, and the same one excluding ``exclude``."""
    query = select(User.id).where(*where).limit(1)
    return query, query.where(User.id != bindparam("exclude"))


_PATIENT_EMAIL = _one_row(patient_email_of(bindparam("org"), bindparam("key")))
_STAFF_EMAIL = _one_row(User.role.in_(STAFF_ROLES), User.email_key == bindparam("key"))
_RECORD_IDENTIFIER = _one_row(_ORG, User.record_identifier == bindparam("value"))


async def staff_ids_in_org(
    session: AsyncSession, organization_id: int, ids: Sequence[int]
) -> set[int]:
    """Which of ``ids`` are providers/staff of the organization."""
    result = await session.execute(_STAFF_IDS, {"ids": list(ids), "org": organization_id})
    return set(result.scalars())


async def _taken(
    session: AsyncSession,
    queries: tuple[Select[int], Select[int]],
    values: dict[str, Any],
    exclude: int | None,
) -> bool:
    """Whether the first of ``queries`` finds a row (the second, one other than ``exclude``)."""
    if exclude is None:
        return (await session.execute(queries[0], values)).first() is not None
    return (await session.execute(queries[1], values | {"exclude": exclude})).first() is not None


async def patient_email_taken(
    session: AsyncSession, organization_id: int, key: str, exclude_id: int | None = None
) -> bool:
    """True when another patient of the organization already has this email."""
    if organization_id < 1:  # no organization: 0 is the owner of providers' and staff's emails
        return False
    return await _taken(session, _PATIENT_EMAIL, {"org": organization_id, "key": key}, exclude_id)


async def patient_with_email(session: AsyncSession, organization_id: int, key: str) -> int | None:
    """The id of the organization's patient with this email key, whatever their state."""
    if organization_id < 1:  # no organization: 0 is the owner of providers' and staff's emails
        return None
    values = {"org": organization_id, "key": key}
    return (await session.execute(_PATIENT_EMAIL[0], values)).scalar_one_or_none()


async def staff_email_taken(session: AsyncSession, key: str, exclude_id: int | None = None) -> bool:
    """True when a provider/staff account anywhere already signs in with this email."""
    return await _taken(session, _STAFF_EMAIL, {"key": key}, exclude_id)


async def record_identifier_taken(
    session: AsyncSession, organization_id: int, value: str, exclude_id: int | None = None
) -> bool:
    """True when another user of the organization has this record identifier."""
    values = {"org": organization_id, "value": value}
    return await _taken(session, _RECORD_IDENTIFIER, values, exclude_id)


# --- batch functions behind DataLoaders -------------------------------------------------------


async def load_users(session: AsyncSession, ids: Sequence[int]) -> list[User | None]:
    """Users by id in key order. Callers pass only ids reached through visible records."""
    rows = await session.execute(select(User).where(User.id.in_(ids)))
    by_id = {user.id: user for user in rows.scalars()}
    return [by_id.get(user_id) for user_id in ids]


# The deferred columns of the patient record (users/models.py), read together on demand.
PROFILE_COLUMNS = tuple(
    prop.columns[0] for prop in User.__mapper__.column_attrs if prop.group == PROFILE_GROUP
)
PROFILE_FIELDS = tuple(
    prop.key for prop in User.__mapper__.column_attrs if prop.group == PROFILE_GROUP
)


async def load_profiles(session: AsyncSession, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The patient-record fields of each user (attribute name -> value), in key order; {} for
    an id that names nobody. Callers pass only ids reached through visible records."""
    rows = await session.execute(select(User.id, *PROFILE_COLUMNS).where(User.id.in_(ids)))
    by_id = {row[0]: dict(zip(PROFILE_FIELDS, row[1:], strict=True)) for row in rows}
    return [by_id.get(user_id, {}) for user_id in ids]


async def load_care_team_ids(
    session: AsyncSession, patient_ids: Sequence[int], *, per_key: int
) -> list[list[int]]:
    """The first ``per_key`` further providers of each patient (not the primary one), in key
    order. The limit is applied in SQL (ROW_NUMBER per patient)."""
    rank = func.row_number().over(
        partition_by=CareTeamMember.patient_id, order_by=CareTeamMember.provider_id
    )
    window = (
        select(CareTeamMember.patient_id, CareTeamMember.provider_id, rank.label("rank"))
        .where(CareTeamMember.patient_id.in_(patient_ids))
        .subquery()
    )
    rows = await session.execute(
        select(window.c.patient_id, window.c.provider_id)
        .where(window.c.rank <= per_key)
        .order_by(window.c.provider_id)
    )
    by_patient: dict[int, list[int]] = defaultdict(list)
    for patient_id, provider_id in rows:
        by_patient[patient_id].append(provider_id)
    return [by_patient.get(patient_id, []) for patient_id in patient_ids]


async def org_users_by_ids(
    session: AsyncSession, organization_id: int, ids: Sequence[int]
) -> dict[int, User]:
    """The users of the organization among ``ids``, keyed by id."""
    if not ids:
        return {}
    query = select(User).where(User.id.in_(ids), User.organization_id == organization_id)
    return {user.id: user for user in (await session.execute(query)).scalars()}
