"""Imports every table so that metadata (Alembic, tests) sees the whole schema."""

from carebook.auth.models import ApiKey, SessionToken
from carebook.db.base import Base
from carebook.notifications.models import OutboxMessage
from carebook.organizations.models import Organization
from carebook.user_groups.models import UserGroup
from carebook.users.models import CareTeamMember, User

__all__ = [
    "ApiKey",
    "Base",
    "CareTeamMember",
    "Organization",
    "OutboxMessage",
    "SessionToken",
    "User",
    "UserGroup",
]
