"""The user table and the care team."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    and_,
    case,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

# Re-exported: Role lives in the auth core (the Actor needs it, and auth imports no domain).
from carebook.auth.roles import Role as Role
from carebook.db import lengths
from carebook.db.base import Base, Timestamped, utcnow
from carebook.db.types import Measure, UTCDateTime

# The deferred group of the patient record's further fields (see User below).
PROFILE_GROUP = "profile"
# Whose email an email key is, for its uniqueness (uq_users_email): a patient's organization's,
# or 0 for a provider or staff member (every organization's id is 1 or more). Laid out as
# PostgreSQL prints it back, so that Alembic's comparison of the models with the database
# (which drops casts and quotes, not line breaks) finds them equal.
EMAIL_OWNER = text(
    f"(\nCASE\n    WHEN role = '{Role.PATIENT.value}' THEN organization_id\n    ELSE 0\nEND)"
)


def _profile(type_: Any) -> Any:
    """A nullable column of the deferred profile group.

    Reading one that was not loaded raises instead of loading it behind the caller's back (an
    implicit query, which async code cannot run): load the group with ``undefer_group``.
    """
    return mapped_column(
        type_, deferred=True, deferred_group=PROFILE_GROUP, deferred_raiseload=True
    )


class User(Timestamped, Base):
    """A provider, staff member or patient.

    A patient's organization is their primary provider's (``dietitian_id``); it is stored on the
    row so that visibility is one indexed comparison.
    """

    __tablename__ = "users"
    __table_args__ = (
        # Emails are unique among an organization's patients, and among providers and staff
        # everywhere (they sign in with them), case-insensitively (email_key): one index for
        # both rules, a staff member's emails under organization 0, which no organization is.
        # Its first column serves every look-up by email (sign-in, password reset, whatever the
        # role). One index, not three (an index on email_key and one partial unique index per
        # rule, migration 0042): a patient's email key falls on a random page of each index
        # that holds it, so moving a thousand patients (bulkUpdateClients; not a HOT update
        # on PostgreSQL, user_group_id is indexed) rewrote a thousand more pages.
        Index(
            "uq_users_email",
            "email_key",
            EMAIL_OWNER,
            unique=True,
            sqlite_where=text("email_key IS NOT NULL"),
            postgresql_where=text("email_key IS NOT NULL"),
        ),
        # The patient list's default sort and its tie-breaker, inside one organization.
        Index("ix_users_org_role_last_name", "organization_id", "role", "last_name", "id"),
        Index(
            "uq_users_record_identifier",
            "organization_id",
            "record_identifier",
            unique=True,
            sqlite_where=text("record_identifier IS NOT NULL"),
            postgresql_where=text("record_identifier IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    first_name: Mapped[str] = mapped_column(String(lengths.PERSON_NAME), default="")
    last_name: Mapped[str] = mapped_column(String(lengths.PERSON_NAME), default="")
    legal_name: Mapped[str | None] = mapped_column(String(lengths.USER_TEXT))
    preferred_name: Mapped[str | None] = mapped_column(String(lengths.USER_TEXT))
    pronouns: Mapped[str | None] = mapped_column(String(lengths.USER_TEXT))
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320))
    skipped_email: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_number: Mapped[str | None] = mapped_column(String(32))
    dob: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(lengths.USER_TEXT))
    gender_identity: Mapped[str | None] = mapped_column(String(lengths.USER_TEXT))
    sex: Mapped[str | None] = mapped_column(String(lengths.USER_TEXT))
    timezone: Mapped[str | None] = mapped_column(String(64))
    record_identifier: Mapped[str | None] = mapped_column(String(lengths.RECORD_IDENTIFIER))
    additional_record_identifier: Mapped[str | None] = mapped_column(String(lengths.USER_TEXT))
    npi: Mapped[str | None] = mapped_column(String(20))
    dietitian_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    user_group_id: Mapped[int | None] = mapped_column(ForeignKey("user_groups.id"), index=True)
    # The patient this one was merged into (mergeClients); set with active false, cleared by
    # unmergeClients (carebook/merges). Indexed: deleting a user looks up the patients merged
    # into them (migration 0036).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Provider invite codes let patients sign up straight onto that provider's panel.
    invite_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    user_metadata: Mapped[str | None] = mapped_column("metadata", String(lengths.METADATA))
    # Activity bookkeeping (users/activity.py). Written without touching updated_at: signing in
    # or using the account is not a change of the record.
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Last use through the user's own sessions (web or mobile: signIn tokens), throttled.
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Last use through any credential, API keys included, throttled.
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The rest of the patient record (migration 0021). Deferred: the patient list and user(id)
    # read rows without them, and GraphQL reads them through one batched DataLoader only when a
    # document selects one (graphql/users/profile.py), so a page of users costs the same as
    # before. Heights are in inches and weights in pounds, as Healthie's charts keep them.
    quick_notes: Mapped[str | None] = _profile(String(lengths.QUICK_NOTES))
    additional_phone_number: Mapped[str | None] = _profile(String(lengths.PHONE))
    height: Mapped[float | None] = _profile(Measure())
    weight: Mapped[float | None] = _profile(Measure())
    human_id: Mapped[str | None] = _profile(String(lengths.EXTERNAL_ID))
    preferred_language_code: Mapped[str | None] = _profile(String(lengths.DEMOGRAPHIC_CODE))
    primary_race_code: Mapped[str | None] = _profile(String(lengths.DEMOGRAPHIC_CODE))
    secondary_race_code: Mapped[str | None] = _profile(String(lengths.DEMOGRAPHIC_CODE))
    primary_ethnicity_code: Mapped[str | None] = _profile(String(lengths.DEMOGRAPHIC_CODE))
    secondary_ethnicity_code: Mapped[str | None] = _profile(String(lengths.DEMOGRAPHIC_CODE))
    sexual_orientation_code: Mapped[str | None] = _profile(String(lengths.DEMOGRAPHIC_CODE))
    sexual_orientation_other: Mapped[str | None] = _profile(String(lengths.USER_TEXT))
    gender_identity_code: Mapped[str | None] = _profile(String(lengths.DEMOGRAPHIC_CODE))

    @property
    def is_patient(self) -> bool:
        """True for patients (clients)."""
        return self.role == Role.PATIENT


def email_owner(user: Any = User) -> ColumnElement[int]:
    """Whose email ``user``'s is, as ``uq_users_email`` states it (EMAIL_OWNER): their
    organization for a patient, 0 for a provider or staff member. ``user``: User or an alias."""
    # A constant, as in the index (a bound value would not match it).
    patient: ColumnElement[str] = literal_column(f"'{Role.PATIENT.value}'")
    return case((user.role == patient, user.organization_id), else_=literal_column("0"))


def patient_email_of(
    organization_id: ColumnElement[int] | int, email_key: ColumnElement[str] | str, user: Any = User
) -> ColumnElement[bool]:
    """The condition "``user`` is a patient of the organization with this email key", stated as
    the key of ``uq_users_email`` (the email and its owner), so that a look-up reads that index
    for at most one row whatever the planner knows. No separate organization or role condition:
    SQLite (no statistics) then preferred ix_users_org_role_last_name, reading every patient of
    the organization, and its constant propagation rewrote ``role`` inside the owner so that it
    no longer matched the index (tests/users/test_email_index.py)."""
    return and_(email_owner(user) == organization_id, user.email_key == email_key)


class CareTeamMember(Base):
    """A further provider on a patient's care team (the primary one is ``dietitian_id``)."""

    __tablename__ = "care_team_members"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # When the provider joined (null: before this was recorded). unmergeClients moves back only
    # a member older than the merge: one removed and added again since is the target's own.
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
