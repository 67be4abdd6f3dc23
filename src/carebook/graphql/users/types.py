"""The User object: patients, providers and staff members alike, as in Healthie."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from carebook.auth.activation import link_for
from carebook.graphql.audit.recording import audited
from carebook.graphql.context import Context
from carebook.graphql.locations.types import Location
from carebook.graphql.organizations.types import Organization
from carebook.graphql.pagination import Cursor, encode_cursor
from carebook.graphql.tags.types import Tag
from carebook.graphql.user_groups.types import UserGroup
from carebook.scheduling.times import local_iso
from carebook.users.models import User as UserRow


def _age(dob: date | None) -> str | None:
    if dob is None:
        return None
    today = date.today()
    years = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    return str(years)


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


@strawberry.type(name="User", description="A patient (client), provider or staff member.")
class User:
    """Healthie's User, with the fields that concern patient management (see docs/api.md)."""

    row: strawberry.Private[UserRow]
    # Where the user stands in the list that returned it (None outside lists).
    position: strawberry.Private[int | None] = None

    @strawberry.field(description="This user's position in the list that returned it.")
    def cursor(self) -> Cursor:
        return Cursor(encode_cursor(self.position or 0))

    @strawberry.field(description="The unique identifier of the user.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="First name.")
    def first_name(self) -> str | None:
        return self.row.first_name

    @strawberry.field(description="Last name.")
    def last_name(self) -> str | None:
        return self.row.last_name

    @strawberry.field(description="Legal first name, when it differs from first_name.")
    def legal_name(self) -> str | None:
        return self.row.legal_name

    @strawberry.field(description="Preferred name (a Carebook addition).")
    def preferred_name(self) -> str | None:
        return self.row.preferred_name

    @strawberry.field(description="First and last name.")
    def full_name(self) -> str | None:
        return f"{self.row.first_name} {self.row.last_name}".strip()

    @strawberry.field(description="Same as full_name.")
    def name(self) -> str | None:
        return f"{self.row.first_name} {self.row.last_name}".strip()

    @strawberry.field(description="Legal name (or first name) and last name.")
    def full_legal_name(self) -> str | None:
        first = self.row.legal_name or self.row.first_name
        return f"{first} {self.row.last_name}".strip()

    @strawberry.field(description="Pronouns.")
    def pronouns(self) -> str | None:
        return self.row.pronouns

    @strawberry.field(description="Email address.")
    def email(self) -> str | None:
        return self.row.email

    @strawberry.field(description="True when the patient was created without an email.")
    def skipped_email(self) -> bool | None:
        return self.row.skipped_email

    @strawberry.field(description="Phone number in E.164 form, e.g. +15554442244.")
    def phone_number(self) -> str | None:
        return self.row.phone_number

    @strawberry.field(description="Date of birth, YYYY-MM-DD.")
    def dob(self) -> str | None:
        return self.row.dob.isoformat() if self.row.dob else None

    @strawberry.field(description="Age in whole years, from dob.")
    def age(self) -> str | None:
        return _age(self.row.dob)

    @strawberry.field(description="Gender, e.g. Male.")
    def gender(self) -> str | None:
        return self.row.gender

    @strawberry.field(description="Gender identity.")
    def gender_identity(self) -> str | None:
        return self.row.gender_identity

    @strawberry.field(description="Sex.")
    def sex(self) -> str | None:
        return self.row.sex

    @strawberry.field(description="IANA time zone name, e.g. America/New_York.")
    def timezone(self) -> str | None:
        return self.row.timezone

    @strawberry.field(description="False once the patient is archived.")
    def active(self) -> bool:
        return self.row.active

    @strawberry.field(description="When the patient was archived (ISO 8601), if archived.")
    def archived_at(self) -> str | None:
        return self.row.archived_at.isoformat() if self.row.archived_at else None

    @strawberry.field(description="The practice's own identifier of the patient.")
    def record_identifier(self) -> str | None:
        return self.row.record_identifier

    @strawberry.field(description="A second identifier, e.g. from another system.")
    def additional_record_identifier(self) -> str | None:
        return self.row.additional_record_identifier

    @strawberry.field(description="A serialized JSON object of custom data.")
    def metadata(self) -> str | None:
        return self.row.user_metadata

    @strawberry.field(description="ID of the patient's primary provider.")
    def dietitian_id(self) -> str | None:
        return _id(self.row.dietitian_id)

    @strawberry.field(description="ID of the patient's user group.")
    def user_group_id(self) -> str | None:
        return _id(self.row.user_group_id)

    @strawberry.field(description="A provider's invite code for patient sign-up.")
    def invite_code(self) -> str | None:
        return self.row.invite_code

    @strawberry.field(description="True once the user has a password to sign in with.")
    def has_created_password(self) -> bool | None:
        return self.row.password_hash is not None

    @strawberry.field(
        description="The link of the invitation where the patient sets their password "
        "(for sending one's own welcome email). Only the organization's providers and staff "
        "can read it; null once the password is set or the link has expired or been used."
    )
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

    @strawberry.field(description="True for patients (clients).")
    def is_patient(self, already_known_value: bool | None = None) -> bool | None:
        return self.row.is_patient

    @strawberry.field(description="When the user was created (ISO 8601).")
    def created_at(self) -> str | None:
        return self.row.created_at.isoformat()

    @strawberry.field(description="When the user was last changed (ISO 8601).")
    def updated_at(self) -> str | None:
        return self.row.updated_at.isoformat()

    @strawberry.field(
        description="Start of the patient's next upcoming, not cancelled appointment (ISO 8601 "
        "with the offset of the user's timezone, UTC when unset); null when there is none."
    )
    async def next_appt_date(self, info: Info[Context, None]) -> str | None:
        start = await info.context.loaders.next_appt_date.load(self.row.id)
        return local_iso(start, self.row.timezone) if start is not None else None

    @strawberry.field(description="The patient's primary provider.")
    @audited
    async def dietitian(self, info: Info[Context, None]) -> User | None:
        if self.row.dietitian_id is None:
            return None
        row = await info.context.loaders.user.load(self.row.dietitian_id)
        return User(row=row) if row else None

    @strawberry.field(description="IDs of the further providers on the patient's care team.")
    async def other_provider_ids(self, info: Info[Context, None]) -> list[strawberry.ID | None]:
        ids = await info.context.loaders.care_team_ids.load(self.row.id)
        return [strawberry.ID(str(pid)) for pid in ids]

    @strawberry.field(description="The primary provider followed by the rest of the care team.")
    @audited
    async def providers(
        self, info: Info[Context, None], can_be_scheduled_with: bool | None = None
    ) -> list[User]:
        ids = await info.context.loaders.care_team_ids.load(self.row.id)
        if self.row.dietitian_id is not None:
            ids = [self.row.dietitian_id, *ids]
        rows = await info.context.loaders.user.load_many(ids)
        return [User(row=row) for row in rows if row is not None]

    @strawberry.field(description="The patient's user group.")
    async def user_group(self, info: Info[Context, None]) -> UserGroup | None:
        if self.row.user_group_id is None:
            return None
        row = await info.context.loaders.group.load(self.row.user_group_id)
        return UserGroup.from_row(row) if row else None

    @strawberry.field(description="The organization the user belongs to.")
    async def organization(self, info: Info[Context, None]) -> Organization | None:
        row = await info.context.loaders.organization.load(self.row.organization_id)
        return Organization.from_row(row) if row else None

    @strawberry.field(description="A collection of tags applied on the specific user, by name.")
    async def active_tags(self, info: Info[Context, None]) -> list[Tag] | None:
        rows = await info.context.loaders.user_tags.load(self.row.id)
        return [Tag(row=row) for row in rows]

    @strawberry.field(description="All locations (addresses) of the user, oldest first.")
    async def locations(self, info: Info[Context, None]) -> list[Location] | None:
        rows = await info.context.loaders.user_locations.load(self.row.id)
        return [Location(row=row, position=index) for index, row in enumerate(rows)]

    @strawberry.field(description="The address of this user: the first of their locations.")
    async def location(self, info: Info[Context, None]) -> Location | None:
        rows = await info.context.loaders.user_locations.load(self.row.id)
        return Location(row=rows[0], position=0) if rows else None


def user_or_none(row: UserRow | None) -> User | None:
    """The GraphQL User of a row, or None (payloads and relationships share this)."""
    return User(row=row) if row is not None else None
