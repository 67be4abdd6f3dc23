"""Imports every table so that metadata (Alembic, tests) sees the whole schema."""

from carebook.auth.models import ApiKey, SessionToken
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db.base import Base
from carebook.locations.models import Location
from carebook.notifications.models import OutboxMessage
from carebook.organizations.models import Organization
from carebook.search.models import SearchToken
from carebook.tags.models import Tag, Tagging
from carebook.user_groups.models import OnboardingFlow, UserGroup
from carebook.users.models import CareTeamMember, User

__all__ = [
    "ApiKey",
    "Base",
    "CareTeamMember",
    "Conversation",
    "ConversationMembership",
    "Location",
    "OnboardingFlow",
    "Organization",
    "OutboxMessage",
    "SearchToken",
    "SessionToken",
    "Tag",
    "Tagging",
    "User",
    "UserGroup",
]
