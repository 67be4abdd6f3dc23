"""The User object: patients, providers and staff members alike, as in Healthie."""

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Concatenate, ParamSpec, TypeVar

import strawberry
from sqlalchemy import inspect as sa_inspect
from strawberry.types import Info

from carebook.auth.actor import Actor
from carebook.forms.queries import FormCounts
from carebook.graphql.audit.recording import audited
from carebook.graphql.audit.subjects import IsUser
from carebook.graphql.context import Context
from carebook.graphql.limits.rows import capped
from carebook.graphql.locations.types import Location
from carebook.graphql.notifications.types import NotificationSetting
from carebook.graphql.organizations.types import Organization
from carebook.graphql.pagination import Cursor, encode_cursor
from carebook.graphql.scheduling.types import Appointment
from carebook.graphql.tags.types import Tag
from carebook.graphql.user_groups.types import UserGroup
from carebook.times import render_or_none
from carebook.user_groups.models import UserGroup as UserGroupRow
from carebook.user_groups.queries import ListArgs
from carebook.users import demographics
from carebook.users.activation import link_for
from carebook.users.models import User as UserRow
from carebook.users.queries import PROFILE_FIELDS
from carebook.users.scoping import Disclosure, disclosure, follows_links


def _age(dob: date | None) -> str | None:
    if dob is None:
        return None
    today = date.today()
    years = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    return str(years)


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


def _full_name(row: UserRow) -> str:
    return f"{row.first_name} {row.last_name}".strip()


def _legal_with_preferred(row: UserRow) -> str:
    legal = row.legal_name or row.first_name
    goes_by = f" ({row.first_name})" if row.legal_name and row.first_name != row.legal_name else ""
    return f"{legal}{goes_by} {row.last_name}".strip()


# A User field's metadata key: the attributes of the users row it reads besides ROW_KEY
# (graphql/users/columns.py). A field without it needs the whole row.
READS = "carebook_reads"
NO_COLUMNS = {READS: ()}
# The patient record's fields read its columns together (``User._record``): from the row when
# it holds all of them, else through their DataLoader.
RECORD_COLUMNS = {READS: PROFILE_FIELDS}

P = ParamSpec("P")
R = TypeVar("R")


def _plain(
    description: str,
    read: Callable[[UserRow], Any],
    shown: Disclosure = Disclosure.RECORD,
    *,
    reads: tuple[str, ...],
) -> Any:
    """A User field read from the row when it is serialized; null below ``shown``.

    It has no resolver, so Strawberry reads it as a plain attribute (no Info object, no argument
    handling, no extension chain: about a tenth of the cost of a resolver field, for each field
    of each user of a page); the attribute is a property, so a user built but never serialized
    costs nothing. Kept (issue 23 tried ordinary resolvers): in-process A/B of the users first
    page, 8 fields per user, 300 requests x 3 alternations: 5.39-5.56 ms of CPU per request with
    these properties, 6.09-6.28 ms with resolvers. A field is part of the whole record unless it
    says otherwise, so a new field is never shown to a patient looking at someone else by
    omission (see users/scoping.py). ``reads``: the row's attributes ``read`` uses (see
    ``graphql/users/columns.py``: a list reads only the columns its document selects).
    """
    if shown is Disclosure.NAME:
        getter = property(lambda self: read(self.row))
    else:
        getter = property(lambda self: read(self.row) if self.disclosure >= shown else None)
    return strawberry.field(description=description, default=getter, metadata={READS: reads})


Record = dict[str, Any]


def _from_record(
    description: str, read: Callable[[Record], str | None], shown: Disclosure = Disclosure.RECORD
) -> Any:
    """A text field of the patient record's deferred columns (users/models.py): read through
    the one batched DataLoader of those columns, so a document that selects none of them (the
    users list as integrations page it) reads nothing more; null below ``shown``."""

    async def resolve(self: "User", info: Info[Context, None]) -> str | None:
        if self.disclosure < shown:
            return None
        return read(await self._record(info))

    return strawberry.field(resolver=resolve, description=description, metadata=RECORD_COLUMNS)


def _coded(
    field: str, system: Callable[[], demographics.CodeSystem]
) -> Callable[[Record], str | None]:
    """The name of the code stored in ``field`` (primary_race for primary_race_code, ...)."""
    return lambda record: system().name(record.get(field))


def _weight(record: Record) -> str | None:
    weight = record.get("weight")
    # As entered, without a trailing ".0": 150, 150.25.
    return None if weight is None else f"{weight:f}".rstrip("0").rstrip(".")


def _time(
    description: str,
    read: Callable[[UserRow], datetime | None],
    shown: Disclosure = Disclosure.RECORD,
    *,
    reads: tuple[str, ...],
) -> Any:
    """A date-time User field, written as Healthie writes it in the viewer's zone (times.py).

    A plain field like :func:`_plain`'s: the zone was resolved once with the request's viewer
    and handed to each User, so a page of users looks nothing up per row.
    """
    getter = property(
        lambda self: render_or_none(read(self.row), self.zone) if self.disclosure >= shown else None
    )
    return strawberry.field(description=description, default=getter, metadata={READS: reads})


def _record_only(
    withheld: Any,
) -> (
    "Callable[[Callable[Concatenate[User, P], Awaitable[R]]],"
    " Callable[Concatenate[User, P], Awaitable[R]]]"
):
    """A resolver of the whole record: ``withheld`` (null or an empty list) below it, and
    where the answer may not follow links (an anonymous sign-up's, users/scoping.py)."""

    def wrap(
        resolver: "Callable[Concatenate[User, P], Awaitable[R]]",
    ) -> "Callable[Concatenate[User, P], Awaitable[R]]":
        async def guarded(self: "User", /, *args: P.args, **kwargs: P.kwargs) -> R:
            if self.disclosure < Disclosure.RECORD or not self.links:
                return withheld  # type: ignore[no-any-return]
            return await resolver(self, *args, **kwargs)

        # Strawberry reads the resolver's signature (info, arguments) through __wrapped__.
        functools.update_wrapper(guarded, resolver)
        return guarded

    return wrap


@strawberry.type(name="User", description="A patient (client), provider or staff member.")
class User(IsUser):
    """Healthie's User, with the fields that concern patient management (see docs/api.md)."""

    row: strawberry.Private[UserRow]
    # What the caller may read of this user (users/scoping.py decides).
    disclosure: strawberry.Private[Disclosure]
    # Whether the reader may follow this user's links (providers, practice, group, ...).
    links: strawberry.Private[bool]
    # Where the user stands in the list that returned it (None outside lists).
    position: strawberry.Private[int | None] = None
    # The time zone the reader's date-times are written in (carebook/times.py).
    zone: strawberry.Private[tzinfo] = UTC

    def __init__(self, row: UserRow, position: int | None = None, *, viewer: Actor | None) -> None:
        # Written by hand so that the plain fields below stay properties over the row. The
        # viewer is required: every place that hands out a user says who is looking.
        self.row = row
        self.position = position
        self.disclosure = disclosure(viewer, row)
        self.links = follows_links(viewer)
        self.zone = viewer.zone if viewer is not None else UTC

    @strawberry.field(
        description="This user's position in the list that returned it.", metadata=NO_COLUMNS
    )
    def cursor(self) -> Cursor:
        return Cursor(encode_cursor(self.position or 0))

    id: strawberry.ID = _plain(
        "The unique identifier of the user.",
        lambda row: strawberry.ID(str(row.id)),
        Disclosure.NAME,
        reads=(),
    )

    first_name: str | None = _plain(
        "First name.",
        lambda row: row.first_name,
        Disclosure.NAME,
        reads=("first_name",),
    )

    last_name: str | None = _plain(
        "Last name.",
        lambda row: row.last_name,
        Disclosure.NAME,
        reads=("last_name",),
    )

    legal_name: str | None = _plain(
        "Legal first name, when it differs from first_name.",
        lambda row: row.legal_name,
        reads=("legal_name",),
    )

    preferred_name: str | None = _plain(
        "Preferred name (a Carebook addition).",
        lambda row: row.preferred_name,
        reads=("preferred_name",),
    )

    full_name: str | None = _plain(
        "First and last name.", _full_name, Disclosure.NAME, reads=("first_name", "last_name")
    )

    name: str | None = _plain(
        "Same as full_name.", _full_name, Disclosure.NAME, reads=("first_name", "last_name")
    )

    full_legal_name: str | None = _plain(
        "Legal name (or first name) and last name.",
        lambda row: f"{row.legal_name or row.first_name} {row.last_name}".strip(),
        reads=("legal_name", "first_name", "last_name"),
    )

    full_legal_name_with_preferred: str | None = _plain(
        "The legal name with the name the user goes by (first_name) in parentheses when it "
        "differs, e.g. 'Jonathan (Jon) Jones'.",
        _legal_with_preferred,
        reads=("legal_name", "first_name", "last_name"),
    )

    pronouns: str | None = _plain(
        "Pronouns.",
        lambda row: row.pronouns,
        Disclosure.PROFILE,
        reads=("pronouns",),
    )

    email: str | None = _plain(
        "Email address.",
        lambda row: row.email,
        reads=("email",),
    )

    skipped_email: bool | None = _plain(
        "True when the patient was created without an email.",
        lambda row: row.skipped_email,
        reads=("skipped_email",),
    )

    phone_number: str | None = _plain(
        "Phone number in E.164 form, e.g. +15554442244.",
        lambda row: row.phone_number,
        reads=("phone_number",),
    )

    dob: str | None = _plain(
        "Date of birth, YYYY-MM-DD.",
        lambda row: row.dob.isoformat() if row.dob else None,
        reads=("dob",),
    )

    age: str | None = _plain(
        "Age in whole years, from dob.", lambda row: _age(row.dob), reads=("dob",)
    )

    gender: str | None = _plain(
        "Gender, e.g. Male.",
        lambda row: row.gender,
        reads=("gender",),
    )

    gender_identity: str | None = _plain(
        "Gender identity.",
        lambda row: row.gender_identity,
        reads=("gender_identity",),
    )

    sex: str | None = _plain(
        "Sex.",
        lambda row: row.sex,
        reads=("sex",),
    )

    timezone: str | None = _plain(
        "IANA time zone name, e.g. America/New_York.",
        lambda row: row.timezone,
        Disclosure.PROFILE,
        reads=("timezone",),
    )

    active: bool = _plain(
        "False once the patient is archived.",
        lambda row: row.active,
        Disclosure.NAME,
        reads=("active",),
    )

    archived_at: str | None = _time(
        "When the patient was archived, if archived (2023-06-05 14:10:00 +0200).",
        lambda row: row.archived_at,
        reads=("archived_at",),
    )

    record_identifier: str | None = _plain(
        "The practice's own identifier of the patient.",
        lambda row: row.record_identifier,
        reads=("record_identifier",),
    )

    additional_record_identifier: str | None = _plain(
        "A second identifier, e.g. from another system.",
        lambda row: row.additional_record_identifier,
        reads=("additional_record_identifier",),
    )

    metadata: str | None = _plain(
        "A serialized JSON object of custom data.",
        lambda row: row.user_metadata,
        reads=("user_metadata",),
    )

    dietitian_id: str | None = _plain(
        "ID of the patient's primary provider.",
        lambda row: _id(row.dietitian_id),
        reads=("dietitian_id",),
    )

    user_group_id: str | None = _plain(
        "ID of the patient's user group.",
        lambda row: _id(row.user_group_id),
        reads=("user_group_id",),
    )

    invite_code: str | None = _plain(
        "A provider's invite code for patient sign-up.",
        lambda row: row.invite_code,
        reads=("invite_code",),
    )

    first_name_last_initial: str | None = _plain(
        "The first name and last initial of the user, e.g. Jane D.",
        lambda row: (
            f"{row.first_name} {row.last_name[:1]}.".strip() if row.last_name else row.first_name
        ),
        Disclosure.NAME,
        reads=("first_name", "last_name"),
    )

    doc_share_id: str | None = _plain(
        "An ID used for document, course, and conversation sharing: user-<id>, as "
        "createConversation's simple_added_users takes it.",
        lambda row: f"user-{row.id}",
        reads=(),
    )

    quick_notes: str | None = _from_record(
        "Quick notes on the patient, for the practice's providers and staff only (null for "
        "the patient themselves).",
        lambda record: record.get("quick_notes"),
        Disclosure.STAFF,
    )

    additional_phone_number: str | None = _from_record(
        "Additional phone number, in E.164 form.",
        lambda record: record.get("additional_phone_number"),
    )

    @strawberry.field(description="Height of the user, in inches.", metadata=RECORD_COLUMNS)
    async def height(self, info: Info[Context, None]) -> float | None:
        if self.disclosure < Disclosure.RECORD:
            return None
        height = (await self._record(info)).get("height")
        return None if height is None else float(height)

    weight: str | None = _from_record("The last weight of the user, in pounds.", _weight)

    @strawberry.field(
        description="The person's id in another system (Healthie: Human API).",
        metadata=RECORD_COLUMNS,
    )
    async def human_id(self, info: Info[Context, None]) -> strawberry.ID | None:
        if self.disclosure < Disclosure.RECORD:
            return None
        human_id = (await self._record(info)).get("human_id")
        return None if human_id is None else strawberry.ID(human_id)

    preferred_language: str | None = _from_record(
        "Preferred language, from preferred_language_code (e.g. English).",
        lambda record: demographics.language_name(record.get("preferred_language_code")),
    )

    preferred_language_code: str | None = _from_record(
        "Preferred language as an ISO 639 code (e.g. en, or en-US with a region).",
        lambda record: record.get("preferred_language_code"),
    )

    primary_race: str | None = _from_record(
        "Primary race, from primary_race_code.", _coded("primary_race_code", demographics.race)
    )

    primary_race_code: str | None = _from_record(
        "Primary race as a CDC Race & Ethnicity code (e.g. 2106-3).",
        lambda record: record.get("primary_race_code"),
    )

    secondary_race: str | None = _from_record(
        "Secondary race, from secondary_race_code.",
        _coded("secondary_race_code", demographics.race),
    )

    secondary_race_code: str | None = _from_record(
        "Secondary race as a CDC Race & Ethnicity code.",
        lambda record: record.get("secondary_race_code"),
    )

    primary_ethnicity: str | None = _from_record(
        "Primary ethnicity, from primary_ethnicity_code.",
        _coded("primary_ethnicity_code", demographics.ethnicity),
    )

    primary_ethnicity_code: str | None = _from_record(
        "Primary ethnicity as a CDC Race & Ethnicity code (e.g. 2186-5).",
        lambda record: record.get("primary_ethnicity_code"),
    )

    secondary_ethnicity: str | None = _from_record(
        "Secondary ethnicity, from secondary_ethnicity_code.",
        _coded("secondary_ethnicity_code", demographics.ethnicity),
    )

    secondary_ethnicity_code: str | None = _from_record(
        "Secondary ethnicity as a CDC Race & Ethnicity code.",
        lambda record: record.get("secondary_ethnicity_code"),
    )

    sexual_orientation: str | None = _from_record(
        "Sexual orientation, from sexual_orientation_code.",
        _coded("sexual_orientation_code", lambda: demographics.SEXUAL_ORIENTATION),
    )

    sexual_orientation_code: str | None = _from_record(
        "Sexual orientation as a SNOMED CT code, or OTH, UNK, ASKU.",
        lambda record: record.get("sexual_orientation_code"),
    )

    sexual_orientation_other: str | None = _from_record(
        "The sexual orientation in the patient's words (with code OTH).",
        lambda record: record.get("sexual_orientation_other"),
    )

    gender_identity_code: str | None = _from_record(
        "Gender identity as a SNOMED CT code, or OTH, UNK, ASKU.",
        lambda record: record.get("gender_identity_code"),
    )

    has_created_password: bool | None = _plain(
        "True once the user has a password to sign in with.",
        lambda row: row.password_hash is not None,
        reads=("password_hash",),
    )

    last_sign_in_at: str | None = _time(
        "When the user last signed in (signIn, signUp, or setting an invitation's password).",
        lambda row: row.last_sign_in_at,
        reads=("last_sign_in_at",),
    )

    last_active: str | None = _time(
        "When the user last used their own session (web or mobile); updated at most once per "
        "CAREBOOK_ACTIVITY_WINDOW_SECONDS.",
        lambda row: row.last_active_at,
        reads=("last_active_at",),
    )

    last_activity: str | None = _time(
        "When the user last used the account with any credential, API keys included; updated "
        "at most once per CAREBOOK_ACTIVITY_WINDOW_SECONDS.",
        lambda row: row.last_activity_at,
        reads=("last_activity_at",),
    )

    accessed_account: bool | None = _plain(
        "True once the user has signed in or used the account themselves.",
        lambda row: row.last_sign_in_at is not None or row.last_activity_at is not None,
        reads=("last_sign_in_at", "last_activity_at"),
    )

    requires_reactivation: bool | None = _plain(
        "True while the user is archived: they cannot sign in until reactivated.",
        lambda row: not row.active,
        reads=("active",),
    )

    @strawberry.field(
        description="The link of the invitation where the patient sets their password "
        "(for sending one's own welcome email). Only the organization's providers and staff "
        "can read it; null once the password is set or the link has expired or been used."
    )
    @_record_only(None)
    async def set_password_link(self, info: Info[Context, None]) -> str | None:
        actor = info.context.actor
        if actor is None or not actor.is_staff or actor.organization_id != self.row.organization_id:
            return None
        if not self.row.is_patient or self.row.password_hash is not None:
            return None
        row = await info.context.loaders.signup_token.load(self.row.id)
        if row is None:
            return None
        settings = info.context.settings
        return link_for(
            public_base_url=settings.public_base_url, secret_key=settings.secret_key, row=row
        )

    @strawberry.field(description="True for patients (clients).", metadata=NO_COLUMNS)
    def is_patient(self, already_known_value: bool | None = None) -> bool | None:
        # Another patient's role is withheld like the rest of their record.
        return self.row.is_patient if self.disclosure >= Disclosure.PROFILE else None

    created_at: str | None = _time(
        "When the user was created (2023-06-05 14:10:00 +0200).",
        lambda row: row.created_at,
        reads=("created_at",),
    )

    updated_at: str | None = _time(
        "When the user was last changed (2023-06-05 14:10:00 +0200).",
        lambda row: row.updated_at,
        reads=("updated_at",),
    )

    @strawberry.field(
        description="Start of the patient's next upcoming, not cancelled appointment "
        "(2023-06-05 14:10:00 +0200); null when there is none."
    )
    @_record_only(None)
    async def next_appt_date(self, info: Info[Context, None]) -> str | None:
        start = await info.context.loaders.next_appt_date.load(self.row.id)
        return render_or_none(start, self.zone)

    @strawberry.field(
        description="All active upcoming appointments of the user, soonest first: a patient's "
        "own, a provider's or staff member's with them."
    )
    @audited
    @capped("User.upcoming_appointments", 'list them with appointments(filter: "upcoming")')
    @_record_only(None)
    async def upcoming_appointments(self, info: Info[Context, None]) -> list[Appointment] | None:
        loaders = info.context.loaders
        if self.row.is_patient:
            rows = await loaders.upcoming_appointments.load(self.row.id)
        else:
            rows = await loaders.upcoming_appointments_with.load(self.row.id)
        return [Appointment(row=row) for row in rows]

    @strawberry.field(
        description="The number of forms that have been requested of the user.", metadata=NO_COLUMNS
    )
    @_record_only(None)
    async def requested_form_count(self, info: Info[Context, None]) -> int | None:
        return (await self._form_counts(info)).requested

    @strawberry.field(
        description="True when every form requested of the user is completed (at least one)."
    )
    @_record_only(None)
    async def has_completed_intake_forms(self, info: Info[Context, None]) -> bool | None:
        return (await self._form_counts(info)).all_completed

    @strawberry.field(
        description="True when the user's group has an onboarding flow and their intake forms "
        "are not all completed (see has_completed_intake_forms)."
    )
    @_record_only(None)
    async def any_incomplete_onboarding_steps(self, info: Info[Context, None]) -> bool | None:
        return await self._onboarding_incomplete(info)

    @strawberry.field(
        description="True if the patient has not finished form requests or incomplete "
        "onboarding steps."
    )
    @_record_only(None)
    async def has_forms_to_complete(self, info: Info[Context, None]) -> bool | None:
        if (await self._form_counts(info)).open > 0:
            return True
        return await self._onboarding_incomplete(info)

    @strawberry.field(
        description="ID of the newest conversation the user takes part in.", metadata=NO_COLUMNS
    )
    @_record_only(None)
    async def last_conversation_id(self, info: Info[Context, None]) -> str | None:
        return _id(await info.context.loaders.last_conversation_id.load(self.row.id))

    @strawberry.field(
        description="The number of the user's conversations (not archived) whose latest "
        "message they have not read."
    )
    @_record_only(None)
    async def unread_convo_count(self, info: Info[Context, None]) -> int | None:
        return await info.context.loaders.unseen_convo_count.load(self.row.id)

    @strawberry.field(
        description="The user groups of this user: a patient's own group; for a provider or "
        "staff member, the groups of their organization, by name."
    )
    @_record_only([])
    @capped("User.user_groups", "list them with userGroups and page_size")
    async def user_groups(
        self,
        info: Info[Context, None],
        check_group_level_actions: bool | None = None,
        course_id: strawberry.ID | None = None,
        keywords: str | None = None,
        offset: int | None = 0,
        should_paginate: bool | None = False,
    ) -> list[UserGroup]:
        start = max(offset or 0, 0)
        if self.row.is_patient:
            group = await self._group(info)
            groups = [group] if group is not None and _matches(group.name, keywords) else []
            return [UserGroup.from_row(row) for row in groups[start:]]
        # Unpaginated: one over the cap, so that @capped can tell a list that is too long.
        cap = info.context.settings.nested_list_max_rows + 1
        limit = GROUPS_PAGE_SIZE if should_paginate else cap
        args = ListArgs(keywords=keywords, offset=start, limit=limit)
        rows = await info.context.loaders.organization_groups.load(args)
        return [UserGroup.from_row(row) for row in rows]

    @strawberry.field(
        description="The patient's primary provider.", metadata={READS: ("dietitian_id",)}
    )
    @audited
    @_record_only(None)
    async def dietitian(self, info: Info[Context, None]) -> "User | None":
        if self.row.dietitian_id is None:
            return None
        row = await info.context.loaders.user.load(self.row.dietitian_id)
        return User(row=row, viewer=info.context.viewer) if row else None

    @strawberry.field(
        description="IDs of the further providers on the patient's care team.", metadata=NO_COLUMNS
    )
    @capped("User.other_provider_ids", "shorten the care team (updateClient other_provider_ids)")
    @_record_only([])
    async def other_provider_ids(
        self, info: Info[Context, None]
    ) -> list[strawberry.ID | None] | None:
        ids = await info.context.loaders.care_team_ids.load(self.row.id)
        return [strawberry.ID(str(pid)) for pid in ids]

    @strawberry.field(
        description="The primary provider followed by the rest of the care team.",
        metadata={READS: ("dietitian_id",)},
    )
    @audited
    @capped("User.providers", "read the ids with other_provider_ids")
    @_record_only([])
    async def providers(
        self, info: Info[Context, None], can_be_scheduled_with: bool | None = None
    ) -> "list[User] | None":  # nullable as Healthie's: a refused list stays local to its user
        ids = await info.context.loaders.care_team_ids.load(self.row.id)
        if self.row.dietitian_id is not None:
            ids = [self.row.dietitian_id, *ids]
        rows = await info.context.loaders.user.load_many(ids)
        return [User(row=row, viewer=info.context.viewer) for row in rows if row is not None]

    @strawberry.field(description="The patient's user group.", metadata={READS: ("user_group_id",)})
    @_record_only(None)
    async def user_group(self, info: Info[Context, None]) -> UserGroup | None:
        if self.row.user_group_id is None:
            return None
        row = await info.context.loaders.group.load(self.row.user_group_id)
        return UserGroup.from_row(row) if row else None

    @strawberry.field(
        description="The name of the patient's user group.", metadata={READS: ("user_group_id",)}
    )
    @_record_only(None)
    async def group_name(self, info: Info[Context, None]) -> str | None:
        group = await self._group(info)
        return group.name if group else None

    @strawberry.field(description="The organization the user belongs to.", metadata=NO_COLUMNS)
    @_record_only(None)
    async def organization(self, info: Info[Context, None]) -> Organization | None:
        row = await info.context.loaders.organization.load(self.row.organization_id)
        return Organization.from_row(row) if row else None

    @strawberry.field(
        description="A collection of tags applied on the specific user, by name.",
        metadata=NO_COLUMNS,
    )
    @audited
    @capped("User.active_tags", "list them with tags(user_id: ...)")
    @_record_only(None)
    async def active_tags(self, info: Info[Context, None]) -> list[Tag] | None:
        rows = await info.context.loaders.user_tags.load(self.row.id)
        self._known_to_loader(info)
        return [Tag(row=row, applied_to=self.row.id) for row in rows]

    @strawberry.field(
        description="All locations (addresses) of the user, oldest first.", metadata=NO_COLUMNS
    )
    @audited
    @capped("User.locations", "list them with locations(user_id: ...) and page_size")
    @_record_only(None)
    async def locations(self, info: Info[Context, None]) -> list[Location] | None:
        rows = await info.context.loaders.user_locations.load(self.row.id)
        self._known_to_loader(info)
        return [Location(row=row, position=index) for index, row in enumerate(rows)]

    @strawberry.field(
        description="The address of this user: the first of their locations.", metadata=NO_COLUMNS
    )
    @audited
    @_record_only(None)
    async def location(self, info: Info[Context, None]) -> Location | None:
        rows = await info.context.loaders.user_locations.load(self.row.id)
        self._known_to_loader(info)
        return Location(row=rows[0], position=0) if rows else None

    @strawberry.field(
        description="The user's email preferences (Notification Settings); only the user and "
        "the organization's providers and staff read them."
    )
    @audited
    @_record_only(None)
    async def notification_setting(self, info: Info[Context, None]) -> NotificationSetting | None:
        row = await info.context.loaders.notification_setting.load(self.row.id)
        return NotificationSetting(owner_id=self.row.id, row=row)

    async def _record(self, info: Info[Context, None]) -> Record:
        """The patient-record columns: from the row when it was read with them (``user(id)``),
        else from their DataLoader."""
        loaded = self.row.__dict__
        if all(name in loaded for name in PROFILE_FIELDS):
            return {name: loaded[name] for name in PROFILE_FIELDS}
        record: Record = await info.context.loaders.profile.load(self.row.id)
        return record

    async def _form_counts(self, info: Info[Context, None]) -> FormCounts:
        """The forms requested of this user (none for providers and staff: no query)."""
        if not self.row.is_patient:
            return FormCounts()
        return await info.context.loaders.form_counts.load(self.row.id)

    async def _group(self, info: Info[Context, None]) -> UserGroupRow | None:
        if self.row.user_group_id is None:
            return None
        return await info.context.loaders.group.load(self.row.user_group_id)

    async def _onboarding_incomplete(self, info: Info[Context, None]) -> bool:
        """In a group with an onboarding flow, and the intake forms not all completed.

        Carebook's flows hold no items yet: the forms requested of the patient are the steps.
        """
        group = await self._group(info)
        if group is None or group.onboarding_flow_id is None:
            return False
        return not (await self._form_counts(info)).all_completed

    def _known_to_loader(self, info: Info[Context, None]) -> None:
        """The audit trail names the owner of the tags and addresses returned (their row is in
        hand): the user loader gets it, so recording them reads nothing more. Not a row read
        with some columns only (a list's, a bulk update's): the owner may be shown again
        (``locations { user { ... } }``), and its other columns raise when read."""
        if _whole(self.row):
            info.context.loaders.user.prime(self.row.id, self.row)


# Healthie's page size of a user's groups with should_paginate.
GROUPS_PAGE_SIZE = 10


def _matches(name: str, keywords: str | None) -> bool:
    """Every word of ``keywords`` appears in ``name``, regardless of case (as userGroups)."""
    folded = name.casefold()
    return all(word in folded for word in (keywords or "").casefold().split())


# Deferred even in a whole row: the patient record's columns come through their DataLoader.
_DEFERRED = frozenset(PROFILE_FIELDS)


def _whole(row: UserRow) -> bool:
    """Whether ``row`` holds every column but the deferred patient-record ones."""
    return sa_inspect(row).unloaded <= _DEFERRED


def user_or_none(row: UserRow | None, viewer: Actor | None) -> User | None:
    """The GraphQL User of a row seen by ``viewer``, or None (payloads and relationships)."""
    return User(row=row, viewer=viewer) if row is not None else None
