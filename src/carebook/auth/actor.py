"""Who is calling: the Actor every service receives."""

from __future__ import annotations

from dataclasses import dataclass

from carebook.users.models import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated caller. Anonymous callers have no Actor (``None``)."""

    user_id: int
    organization_id: int
    role: Role
    session_token_id: int | None = None
    api_key_id: int | None = None

    @property
    def is_staff(self) -> bool:
        """Providers and staff members manage the organization's patients."""
        return self.role in (Role.PROVIDER, Role.STAFF)

    @property
    def is_patient(self) -> bool:
        """Patients see and change only themselves."""
        return self.role == Role.PATIENT
