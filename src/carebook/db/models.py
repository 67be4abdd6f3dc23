"""Imports every table so that metadata (Alembic, tests) sees the whole schema."""

from carebook.audit.models import AuditEvent
from carebook.auth.models import ApiKey, SessionToken, SignupToken
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.db.base import Base
from carebook.forms.models import RequestedFormCompletion
from carebook.idempotency.models import IdempotencyKey
from carebook.locations.models import Location
from carebook.notifications.models import OutboxMessage
from carebook.organizations.models import Organization
from carebook.ratelimit.models import RateLimitCounter
from carebook.scheduling.models import Appointment, AppointmentType, BillingItem, Offering
from carebook.search.models import SearchToken
from carebook.tags.models import Tag, Tagging
from carebook.user_groups.models import OnboardingFlow, UserGroup
from carebook.user_notifications.models import UserNotification
from carebook.users.counts import UserCount
from carebook.users.models import CareTeamMember, User

__all__ = [
    "ApiKey",
    "Appointment",
    "AppointmentType",
    "AuditEvent",
    "Base",
    "BillingItem",
    "CareTeamMember",
    "Conversation",
    "ConversationMembership",
    "IdempotencyKey",
    "Location",
    "Offering",
    "OnboardingFlow",
    "Organization",
    "OutboxMessage",
    "RateLimitCounter",
    "RequestedFormCompletion",
    "SearchToken",
    "SessionToken",
    "SignupToken",
    "Tag",
    "Tagging",
    "User",
    "UserCount",
    "UserGroup",
    "UserNotification",
]
