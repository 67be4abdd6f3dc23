"""Imports every table so that metadata (Alembic, tests) sees the whole schema, and the ORM
hooks that keep tables in step (the search index's, registered when its module is imported).

Above every package that defines tables (the domains and search), so that db/ imports none:
the registry of the schema is the one module that knows them all.
"""

from sqlalchemy import Table

import carebook.duplicates.index  # (registers the blocking keys' flush hook)
import carebook.search.index  # noqa: F401  (registers the token index's flush hook)
from carebook.audit.models import AuditEvent
from carebook.auth.models import ApiKey, PasswordResetToken, SessionToken, SignupToken
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.conversations.note_models import Note
from carebook.db.base import REFERENCE_DATA, Base
from carebook.duplicates.models import DuplicatePair, MatchKey, NameKey
from carebook.events.models import Event, SentWebhook, Webhook, WebhookDelivery, WebhookSubscription
from carebook.forms.models import (
    RecurringForm,
    RecurringFormRecipient,
    RecurringFormRun,
    RequestedFormCompletion,
    SchedulerLease,
)
from carebook.idempotency.models import IdempotencyKey
from carebook.locations.models import Location
from carebook.notifications.models import NotificationSetting, OutboxMessage
from carebook.organizations.models import Organization
from carebook.ratelimit.models import RateLimitCounter
from carebook.scheduling.models import Appointment, AppointmentType, BillingItem, Offering
from carebook.search.counters import ListBlock, ListBlockStart, UserCount
from carebook.search.models import SearchToken
from carebook.tags.models import AppliedTag, Tag, Tagging
from carebook.user_groups.models import OnboardingFlow, UserGroup
from carebook.user_notifications.models import UserNotification
from carebook.users.merge_log import ClientMerge, ClientMergeRow
from carebook.users.models import CareTeamMember, User


def data_tables() -> list[Table]:
    """Every table of application data, dependents first: what emptying a database deletes.

    Reference data written by migrations (``info[REFERENCE_DATA]``) stays: writes need it.
    """
    tables = reversed(Base.metadata.sorted_tables)
    return [table for table in tables if not table.info.get(REFERENCE_DATA)]


__all__ = [
    "ApiKey",
    "AppliedTag",
    "Appointment",
    "AppointmentType",
    "AuditEvent",
    "Base",
    "BillingItem",
    "CareTeamMember",
    "ClientMerge",
    "ClientMergeRow",
    "Conversation",
    "ConversationMembership",
    "DuplicatePair",
    "Event",
    "IdempotencyKey",
    "ListBlock",
    "ListBlockStart",
    "Location",
    "MatchKey",
    "NameKey",
    "Note",
    "NotificationSetting",
    "Offering",
    "OnboardingFlow",
    "Organization",
    "OutboxMessage",
    "PasswordResetToken",
    "RateLimitCounter",
    "RecurringForm",
    "RecurringFormRecipient",
    "RecurringFormRun",
    "RequestedFormCompletion",
    "SchedulerLease",
    "SearchToken",
    "SentWebhook",
    "SessionToken",
    "SignupToken",
    "Tag",
    "Tagging",
    "User",
    "UserCount",
    "UserGroup",
    "UserNotification",
    "Webhook",
    "WebhookDelivery",
    "WebhookSubscription",
    "data_tables",
]
