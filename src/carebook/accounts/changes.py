"""Applying a user's given fields (a ``Profile``) to a user row, with every rule checked.

Shared by createClient, updateClient, updateUser and signUp so a field has one rule everywhere.
All problems are collected and raised together, before anything is flushed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.auth.passwords import Passwords
from carebook.db import lengths
from carebook.db.base import utcnow
from carebook.errors import FieldMessage, Invalid
from carebook.user_groups import queries as group_queries
from carebook.users import demographics, password_reset, queries
from carebook.users import validation as v
from carebook.users.inputs import Profile
from carebook.users.new_password import Prehashed, password_hash_of

TEXT_FIELDS = (
    "additional_record_identifier",
    "legal_name",
    "preferred_name",
    "pronouns",
    "gender",
    "gender_identity",
    "sex",
    "sexual_orientation_other",
)
NAME_FIELDS = ("first_name", "last_name")


class Record(Protocol):
    """What the rules read and set of a user: a ``User`` row, or an import's plain record of
    one (carebook/imports/records.py, written with Core statements, not the ORM).

    The other columns are set by name (``setattr``), so any object holding them will do.
    """

    @property
    def id(self) -> int | None:
        """The user's id; None: not inserted yet."""
        ...

    @property
    def is_patient(self) -> bool:
        """True for patients (clients)."""
        ...

    skipped_email: bool
    email: str | None
    email_key: str | None
    phone_number: str | None
    additional_phone_number: str | None
    quick_notes: str | None
    height: float | None
    weight: float | None
    human_id: str | None
    preferred_language_code: str | None
    dob: date | None
    timezone: str | None
    user_metadata: str | None
    record_identifier: str | None
    dietitian_id: int | None
    user_group_id: int | None
    active: bool
    archived_at: datetime | None
    password_hash: str | None


class Lookups(Protocol):
    """The look-ups behind the rules that depend on other rows.

    One write asks the database (:class:`DatabaseLookups`); an import answers from what it
    read for a whole batch at once (carebook/imports/lookups.py), so that the rules stay these
    and a row costs no query.
    """

    async def patient_email_taken(self, key: str, exclude_id: int | None) -> bool:
        """Whether another patient of the organization has this email key."""
        ...

    async def record_identifier_taken(self, value: str, exclude_id: int | None) -> bool:
        """Whether another user of the organization has this record identifier."""
        ...

    async def staff_member_id(self, provider_id: int) -> int | None:
        """The id of this provider/staff member of the organization, if they are one."""
        ...

    async def group_exists(self, group_id: int) -> bool:
        """Whether this user group is the organization's."""
        ...


@dataclass
class DatabaseLookups:
    """:class:`Lookups` asked of the database, one query each."""

    session: AsyncSession
    organization_id: int

    async def patient_email_taken(self, key: str, exclude_id: int | None) -> bool:
        """Whether another patient of the organization has this email key."""
        return await queries.patient_email_taken(
            self.session, self.organization_id, key, exclude_id
        )

    async def record_identifier_taken(self, value: str, exclude_id: int | None) -> bool:
        """Whether another user of the organization has this record identifier."""
        return await queries.record_identifier_taken(
            self.session, self.organization_id, value, exclude_id
        )

    async def staff_member_id(self, provider_id: int) -> int | None:
        """The id of this provider/staff member of the organization, if they are one (the id
        alone: loading the provider's whole row cost a write more than the question)."""
        staff = await queries.staff_ids_in_org(self.session, self.organization_id, [provider_id])
        return provider_id if provider_id in staff else None

    async def group_exists(self, group_id: int) -> bool:
        """Whether this user group is the organization's."""
        group = await group_queries.get_group_in_org(self.session, self.organization_id, group_id)
        return group is not None


@dataclass
class ChangeContext:
    """What the field rules need besides the value."""

    session: AsyncSession
    organization_id: int
    passwords: Passwords
    actor: Actor | None = None
    # The given password's hash, made before the write transaction (users/new_password.py).
    prehashed: Prehashed | None = None
    # Where the rules look other rows up; None: the database, one query each.
    lookups: Lookups | None = None

    def look(self) -> Lookups:
        """The look-ups the rules use."""
        return self.lookups or DatabaseLookups(self.session, self.organization_id)


Handler = Callable[[ChangeContext, Record, Any], Awaitable[None]]


async def _names(field: str, ctx: ChangeContext, user: Record, value: Any) -> None:
    setattr(user, field, v.clean_name(field, value, required=True))


async def _text(field: str, ctx: ChangeContext, user: Record, value: Any) -> None:
    setattr(user, field, v.clean_text(field, value))


async def _email(ctx: ChangeContext, user: Record, value: Any) -> None:
    if user.skipped_email and not (value or "").strip():
        user.email, user.email_key = None, None
        return
    email = v.clean_email(value)
    key = v.email_key(email)
    assert key is not None
    taken = await (
        ctx.look().patient_email_taken(key, user.id)
        if user.is_patient
        else queries.staff_email_taken(ctx.session, key, user.id)
    )
    if taken:
        raise Invalid.field("email", "Email has already been taken")
    if user.id is not None and user.email_key not in (None, key):
        # Reset and invitation links went to the old address, perhaps the wrong person's.
        await password_reset.use_up_links(ctx.session, user.id)
    user.email, user.email_key = email, key


async def _phone(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.phone_number = v.clean_phone(value)


async def _additional_phone(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.additional_phone_number = v.clean_phone(value, "additional_phone_number")


async def _quick_notes(ctx: ChangeContext, user: Record, value: Any) -> None:
    # Notes keep their lines and spacing (integrations append to them); only the length is
    # bounded, and blank clears them.
    text = value if isinstance(value, str) and value.strip() else None
    if text is not None and len(text) > lengths.QUICK_NOTES:
        raise Invalid.field(
            "quick_notes", f"Quick notes are too long (at most {lengths.QUICK_NOTES:,} characters)"
        )
    user.quick_notes = text


async def _height(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.height = v.clean_measure("height", value, unit="inches", most=120)


async def _weight(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.weight = v.clean_measure("weight", value, unit="pounds", most=1500)


async def _human_id(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.human_id = v.clean_text("human_id", value, limit=lengths.EXTERNAL_ID)


async def _language(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.preferred_language_code = demographics.clean_language(value)


def _coded(field: str, system: Callable[[], demographics.CodeSystem]) -> Handler:
    async def handler(ctx: ChangeContext, user: Record, value: Any) -> None:
        setattr(user, field, demographics.clean_code(system(), field, value))

    return handler


async def _dob(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.dob = v.clean_dob(value)


async def _timezone(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.timezone = v.clean_timezone(value)


async def _metadata(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.user_metadata = v.clean_metadata(value)


async def _record_identifier(ctx: ChangeContext, user: Record, value: Any) -> None:
    text = v.clean_text("record_identifier", value, limit=lengths.RECORD_IDENTIFIER)
    if text and await ctx.look().record_identifier_taken(text, user.id):
        raise Invalid.field("record_identifier", "Record identifier has already been taken")
    user.record_identifier = text


async def _dietitian(ctx: ChangeContext, user: Record, value: Any) -> None:
    provider_id = v.parse_id(value, "dietitian_id")
    if provider_id is None:
        raise Invalid.field("dietitian_id", "Dietitian can't be blank")
    found_id = await ctx.look().staff_member_id(provider_id)
    if found_id is None:
        raise Invalid.field("dietitian_id", "Provider not found in this organization")
    user.dietitian_id = found_id


async def _user_group(ctx: ChangeContext, user: Record, value: Any) -> None:
    group_id = v.parse_id(value, "user_group_id")
    if group_id is None:  # "" removes the patient from their group, as in Healthie
        user.user_group_id = None
        return
    if not await ctx.look().group_exists(group_id):
        raise Invalid.field("user_group_id", "User group not found")
    user.user_group_id = group_id


async def _active(ctx: ChangeContext, user: Record, value: Any) -> None:
    if value is None:
        raise Invalid.field("active", "Active must be true or false")
    set_active(user, bool(value))


def set_active(user: Record, active: bool) -> None:
    """Archive or reactivate, remembering when the patient was archived."""
    if user.active != active or (user.archived_at is None and not active):
        user.archived_at = None if active else utcnow()
    user.active = active


async def _password(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.password_hash = await password_hash_of(ctx.passwords, value, ctx.prehashed)


async def _skipped_email(ctx: ChangeContext, user: Record, value: Any) -> None:
    user.skipped_email = bool(value)


def _bind(fn: Callable[[str, ChangeContext, Record, Any], Awaitable[None]], field: str) -> Handler:
    async def handler(ctx: ChangeContext, user: Record, value: Any) -> None:
        await fn(field, ctx, user, value)

    return handler


HANDLERS: dict[str, Handler] = {
    **{field: _bind(_names, field) for field in NAME_FIELDS},
    **{field: _bind(_text, field) for field in TEXT_FIELDS},
    "skipped_email": _skipped_email,
    "email": _email,
    "phone_number": _phone,
    "dob": _dob,
    "timezone": _timezone,
    "metadata": _metadata,
    "record_identifier": _record_identifier,
    "dietitian_id": _dietitian,
    "user_group_id": _user_group,
    "active": _active,
    "password": _password,
    "quick_notes": _quick_notes,
    "additional_phone_number": _additional_phone,
    "height": _height,
    "weight": _weight,
    "human_id": _human_id,
    "preferred_language_code": _language,
    "primary_race_code": _coded("primary_race_code", demographics.race),
    "secondary_race_code": _coded("secondary_race_code", demographics.race),
    "primary_ethnicity_code": _coded("primary_ethnicity_code", demographics.ethnicity),
    "secondary_ethnicity_code": _coded("secondary_ethnicity_code", demographics.ethnicity),
    "sexual_orientation_code": _coded(
        "sexual_orientation_code", lambda: demographics.SEXUAL_ORIENTATION
    ),
    "gender_identity_code": _coded("gender_identity_code", lambda: demographics.GENDER_IDENTITY),
}


async def apply_changes(
    ctx: ChangeContext, user: Record, changes: Profile, required: Collection[str] = ()
) -> None:
    """Validate and set every field given in ``changes``; raise all problems at once.

    A field that is ``None`` was not given and is left alone, unless it is ``required`` by the
    operation: then its rule runs on ``None`` and reports it blank (a new user's names, say).
    ``skipped_email`` is applied before ``email`` (the dict order above) because the email rule
    depends on it.
    """
    problems: list[FieldMessage] = []
    # No autoflush: the uniqueness look-ups must not flush a half-changed row.
    with ctx.session.no_autoflush:
        for name, handler in HANDLERS.items():
            value = getattr(changes, name)
            if value is None and name not in required:
                continue
            try:
                await handler(ctx, user, value)
            except Invalid as error:
                problems.extend(error.messages)
    if problems:
        raise Invalid(*problems)
