"""Imports every table so that metadata (Alembic, tests) sees the whole schema."""

from carebook.auth.models import ApiKey, SessionToken, SignupToken
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db.base import Base
from carebook.forms.models import RequestedFormCompletion
from carebook.locations.models import Location
from carebook.notifications.models import OutboxMessage
from carebook.organizations.models import Organization
from carebook.scheduling.models import Appointment, AppointmentType, BillingItem, Offering
from carebook.search.models import SearchToken
from carebook.tags.models import Tag, Tagging
from carebook.user_groups.models import OnboardingFlow, UserGroup
from carebook.user_notifications.models import UserNotification
from carebook.users.models import CareTeamMember, User

__all__ = [
    "ApiKey",
    "Appointment",
    "AppointmentType",
    "Base",
    "BillingItem",
    "CareTeamMember",
    "Conversation",
    "ConversationMembership",
    "Location",
    "Offering",
    "OnboardingFlow",
    "Organization",
    "OutboxMessage",
    "RequestedFormCompletion",
    "SearchToken",
    "SessionToken",
    "SignupToken",
    "Tag",
    "Tagging",
    "User",
    "UserGroup",
    "UserNotification",
]
