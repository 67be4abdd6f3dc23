"""The look-ups of one batch, read in a few queries before its rows are checked.

The field rules (carebook/accounts/changes.py) ask whether an email or a record identifier is
taken, and whether a provider or a group is the organization's; for an import they are answered
from here: the batch's keys in one query each, the staff and groups of the organization once.
Rows of the batch claim their keys as they pass, so two rows naming one person meet on the
same record, as two runs do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.imports.reader import SourceRow
from carebook.imports.records import PatientRecord, record_of, select_records
from carebook.user_groups.models import UserGroup
from carebook.users import validation as v
from carebook.users.models import User, email_owner
from carebook.users.queries import STAFF_ROLES

# IN lists stay under SQLite's and asyncpg's limits on bound parameters.
_IN_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Organization:
    """What every batch of one import needs of the organization: read once."""

    id: int
    staff_ids: frozenset[int]
    group_ids: frozenset[int]


async def organization(session: AsyncSession, organization_id: int) -> Organization:
    """The organization's providers/staff and groups."""
    staff = await session.execute(
        select(User.id).where(User.organization_id == organization_id, User.role.in_(STAFF_ROLES))
    )
    groups = await session.execute(
        select(UserGroup.id).where(UserGroup.organization_id == organization_id)
    )
    return Organization(organization_id, frozenset(staff.scalars()), frozenset(groups.scalars()))


@dataclass
class BatchLookups:
    """:class:`carebook.accounts.changes.Lookups` for one batch; ``current`` is the record the
    row being checked writes (a record never takes its own email or identifier)."""

    org: Organization
    by_email: dict[str, PatientRecord] = field(default_factory=dict)
    by_identifier: dict[str, PatientRecord] = field(default_factory=dict)
    # Identifiers held by users the import does not write (providers, staff).
    others: set[str] = field(default_factory=set)
    current: PatientRecord | None = None

    async def patient_email_taken(self, key: str, exclude_id: int | None) -> bool:
        """Whether another patient has this email key."""
        owner = self.by_email.get(key)
        return owner is not None and owner is not self.current

    async def record_identifier_taken(self, value: str, exclude_id: int | None) -> bool:
        """Whether another user has this record identifier."""
        owner = self.by_identifier.get(value)
        return value in self.others or (owner is not None and owner is not self.current)

    async def staff_member_id(self, provider_id: int) -> int | None:
        """The provider's id when they are the organization's."""
        return provider_id if provider_id in self.org.staff_ids else None

    async def group_exists(self, group_id: int) -> bool:
        """Whether the group is the organization's."""
        return group_id in self.org.group_ids

    def match(self, row: SourceRow) -> PatientRecord | None:
        """The record a row updates: same record identifier, else same email."""
        identifier = str(row.fields.get("record_identifier", "")).strip()
        if identifier and identifier in self.by_identifier:
            return self.by_identifier[identifier]
        key = v.email_key(str(row.fields.get("email", "")))
        return self.by_email.get(key) if key else None

    def claim(
        self,
        user: PatientRecord,
        *,
        old_email_key: str | None = None,
        old_identifier: str | None = None,
    ) -> None:
        """``user`` (written by a row that passed) now holds its email and identifier; the
        ones it held before (``old_*``) are free again, so a later row naming them no longer
        lands on this record."""
        for keys, old, new in (
            (self.by_email, old_email_key, user.email_key),
            (self.by_identifier, old_identifier, user.record_identifier),
        ):
            if old and old != new and keys.get(old) is user:
                del keys[old]
        if user.email_key:
            self.by_email[user.email_key] = user
        if user.record_identifier:
            self.by_identifier[user.record_identifier] = user


async def batch_lookups(
    session: AsyncSession, org: Organization, rows: Iterable[SourceRow]
) -> BatchLookups:
    """The patients the batch's rows name (by identifier or email), read whole as records."""
    identifiers: set[str] = set()
    keys: set[str] = set()
    for row in rows:
        identifier = str(row.fields.get("record_identifier", "")).strip()
        if identifier:
            identifiers.add(identifier)
        key = v.email_key(str(row.fields.get("email", "")))
        if key:
            keys.add(key)
    lookups = BatchLookups(org)
    read: dict[int | None, PatientRecord] = {}
    for user in await _users(session, org.id, User.record_identifier, identifiers):
        if user.is_patient:
            read[user.id] = user
            lookups.claim(user)
        elif user.record_identifier:
            lookups.others.add(user.record_identifier)
    patients = await _users(session, org.id, User.email_key, keys, by_email=True)
    for user in patients:
        # One record per patient, read by identifier and by email alike: a row's checks tell
        # "this record" from "another patient" by identity, as the ORM's identity map did.
        lookups.by_email[user.email_key or ""] = read.setdefault(user.id, user)
    return lookups


async def _users(
    session: AsyncSession,
    organization_id: int,
    column: object,
    values: set[str],
    *,
    by_email: bool = False,
) -> list[PatientRecord]:
    found: list[PatientRecord] = []
    if by_email and organization_id < 1:  # 0 owns providers' and staff's emails (email_owner)
        return found
    # A NUL matches no stored value (the rules refuse it) and PostgreSQL refuses it in a query.
    ordered = sorted(value for value in values if "\x00" not in value)
    for start in range(0, len(ordered), _IN_CHUNK):
        # The values are written into the statement (escaped by the dialect), not bound: to
        # PostgreSQL a constant list is a hashed set. Without statistics (a table filled since
        # its last ANALYZE, as in the tests) it filters the organization's rows with the list
        # instead of probing the index, and a bound list was compared element by element:
        # 1,000 comparisons per patient of the organization, for every batch.
        chunk: BindParameter[str] = bindparam(
            "values", ordered[start : start + _IN_CHUNK], expanding=True, literal_execute=True
        )
        named = column.in_(chunk)  # type: ignore[attr-defined]
        # Emails: the organization's patients, as the key of their index (patient_email_of).
        scope = email_owner() if by_email else User.organization_id
        query = select_records().where(scope == organization_id, named)
        found.extend(record_of(row) for row in await session.execute(query))
    return found
