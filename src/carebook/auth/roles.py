"""What a user is to their organization.

Part of the auth core (it imports no domain package): the Actor carries a Role, and every
permission decision reads it. The user table stores its value (carebook.users.models).
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a user is to their organization."""

    PROVIDER = "provider"
    STAFF = "staff"
    PATIENT = "patient"
