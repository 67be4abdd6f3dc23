"""The schema: every domain's root fields merged into Query and Mutation."""

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig

from carebook.graphql.audit.extension import AuditFlush
from carebook.graphql.audit.queries import AuditQueries
from carebook.graphql.auth.mutations import AuthMutations
from carebook.graphql.auth.queries import AuthQueries
from carebook.graphql.change_feed.mutations import ChangeFeedMutations
from carebook.graphql.change_feed.queries import ChangeFeedQueries
from carebook.graphql.conversations.mutations import ConversationMutations
from carebook.graphql.conversations.note_mutations import NoteMutations
from carebook.graphql.conversations.note_queries import NoteQueries
from carebook.graphql.conversations.queries import ConversationQueries
from carebook.graphql.duplicates.mutations import DuplicateMutations
from carebook.graphql.duplicates.queries import DuplicateQueries
from carebook.graphql.errors import ErrorShaping
from carebook.graphql.execution import CarebookExecutionContext
from carebook.graphql.extensions import (
    AllowUnusedVariables,
    CachedParsing,
    CachedValidation,
    CarebookSchema,
)
from carebook.graphql.forms.mutations import FormMutations
from carebook.graphql.forms.queries import FormQueries
from carebook.graphql.introspection import AnonymousIntrospectionOff
from carebook.graphql.iso_scalar import ISO8601_SCALAR, ISO8601DateTime
from carebook.graphql.limits.extension import QueryLimits, limit_extensions
from carebook.graphql.locations.mutations import LocationMutations
from carebook.graphql.locations.queries import LocationQueries
from carebook.graphql.notifications.mutations import EmailNotificationMutations
from carebook.graphql.notifications.queries import EmailNotificationQueries
from carebook.graphql.pagination import CURSOR_SCALAR, Cursor
from carebook.graphql.scheduling.mutations import SchedulingMutations
from carebook.graphql.scheduling.queries import SchedulingQueries
from carebook.graphql.tags.mutations import TagMutations
from carebook.graphql.tags.queries import TagQueries
from carebook.graphql.text_guard import RejectUnstorableText
from carebook.graphql.user_groups.mutations import UserGroupMutations
from carebook.graphql.user_groups.queries import UserGroupQueries
from carebook.graphql.user_notifications.queries import NotificationQueries
from carebook.graphql.users.email_mutations import UserEmailMutations
from carebook.graphql.users.list_queries import UserListQueries
from carebook.graphql.users.merge_mutations import MergeMutations
from carebook.graphql.users.mutations import UserMutations
from carebook.graphql.users.queries import UserQueries
from carebook.graphql.warnings import WarningsExtension
from carebook.graphql.webhooks.mutations import WebhookMutations
from carebook.graphql.webhooks.queries import WebhookQueries
from carebook.graphql.webhooks.test_send import WebhookTestMutations


@strawberry.type(description="The root of every read.")
class Query(
    UserQueries,
    UserListQueries,
    TagQueries,
    LocationQueries,
    WebhookQueries,
    UserGroupQueries,
    FormQueries,
    SchedulingQueries,
    ConversationQueries,
    NoteQueries,
    NotificationQueries,
    EmailNotificationQueries,
    AuditQueries,
    AuthQueries,
    ChangeFeedQueries,
    DuplicateQueries,
):  # each domain adds its root-field class to the bases
    """Root query fields."""


@strawberry.type(description="The root of every write.")
class Mutation(
    UserMutations,
    UserEmailMutations,
    MergeMutations,
    AuthMutations,
    TagMutations,
    LocationMutations,
    WebhookMutations,
    UserGroupMutations,
    FormMutations,
    SchedulingMutations,
    ConversationMutations,
    NoteMutations,
    EmailNotificationMutations,
    ChangeFeedMutations,
    WebhookTestMutations,
    DuplicateMutations,
):  # likewise
    """Root mutation fields."""


def build_schema(
    *, production: bool = False, limits: QueryLimits | None = None
) -> strawberry.Schema:
    """The schema with the request pipeline's extensions.

    Parsing and validation are cached: clients send the same documents again and again, and
    these two steps cost more than executing a simple query. ``limits`` (the served app always
    passes them) refuse documents that are too deep, too wide or too costly.
    """
    extensions: list[Any] = [
        lambda: ErrorShaping(production=production),
        AllowUnusedVariables,
        RejectUnstorableText,
        # Production: introspection only for signed-in callers.
        *([AnonymousIntrospectionOff] if production else []),
        AuditFlush,
        WarningsExtension,
        *(limit_extensions(limits) if limits else []),
        # Strawberry keeps these caches at module level, so a fresh instance per request still
        # reuses every earlier parse and validation.
        lambda: CachedParsing(maxsize=512),
        lambda: CachedValidation(maxsize=512),
    ]
    return CarebookSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(
            auto_camel_case=False,
            scalar_map={Cursor: CURSOR_SCALAR, ISO8601DateTime: ISO8601_SCALAR},
            # ErrorShaping strips every kind of hint; this stops field hints at the source.
            disable_field_suggestions=production,
        ),
        extensions=extensions,
        # Plain leaf fields read in place (graphql/execution.py).
        execution_context_class=CarebookExecutionContext,
    )
