"""Who is calling: the Actor every service receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo

from carebook.auth.roles import Role
from carebook.errors import Invalid


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated caller. Anonymous callers have no Actor (``None``)."""

    user_id: int
    organization_id: int
    role: Role
    session_token_id: int | None = None
    api_key_id: int | None = None
    # The reader of an anonymous patient sign-up's answer: the new patient, before they have
    # used the token (users/scoping.py, follows_links).
    enrolling: bool = False
    # The time zone the caller reads date-times in (carebook/times.py): their own, else their
    # organization's, else UTC; resolved with the credential, once per request.
    zone: tzinfo = UTC

    @property
    def is_staff(self) -> bool:
        """Providers and staff members manage the organization's patients."""
        return self.role in (Role.PROVIDER, Role.STAFF)

    @property
    def is_patient(self) -> bool:
        """Patients see and change only themselves."""
        return self.role == Role.PATIENT


def require_staff(actor: Actor) -> None:
    """Services' own check that a write is a provider/staff member's (besides the API's)."""
    if not actor.is_staff:
        raise Invalid.field(None, "Only providers and staff members can do this")
