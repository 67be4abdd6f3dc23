"""The user table and the care team."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

# Re-exported: Role lives in the auth core (the Actor needs it, and auth imports no domain).
from carebook.auth.roles import Role as Role
from carebook.db import lengths
from carebook.db.base import Base, Timestamped
from carebook.db.types import UTCDateTime


class User(Timestamped, Base):
    """A provider, staff member or patient.

    A patient's organization is their primary provider's (``dietitian_id``); it is stored on the
    row so that visibility is one indexed comparison.
    """

    __tablename__ = "users"
    __table_args__ = (
        # Emails are unique among an organization's patients (case-insensitively, via email_key).
        Index(
            "uq_users_patient_email",
            "organization_id",
            "email_key",
            unique=True,
            sqlite_where=text("role = 'patient' AND email_key IS NOT NULL"),
            postgresql_where=text("role = 'patient' AND email_key IS NOT NULL"),
        ),
        # Provider and staff emails are unique everywhere: they sign in with them.
        Index(
            "uq_users_staff_email",
            "email_key",
            unique=True,
            sqlite_where=text("role <> 'patient' AND email_key IS NOT NULL"),
            postgresql_where=text("role <> 'patient' AND email_key IS NOT NULL"),
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
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
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

    @property
    def is_patient(self) -> bool:
        """True for patients (clients)."""
        return self.role == Role.PATIENT


class CareTeamMember(Base):
    """A further provider on a patient's care team (the primary one is ``dietitian_id``)."""

    __tablename__ = "care_team_members"

    patient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
