"""Typed inputs of the webhook management services (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give (an explicit null included, as in Healthie).
"""

from __future__ import annotations

from dataclasses import dataclass

from carebook.config import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSubscription:
    """One entry of ``webhook_events`` (Healthie's WebhookEventInput): without ``id`` a new
    subscription, with ``id`` a change to that subscription of the webhook."""

    id: str | int | None = None
    event_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookFields:
    """What a webhook is created or changed with; ``None`` keeps the value (or the default).

    ``webhook_events`` given (even empty) is the whole new list of subscriptions.
    """

    url: str | None = None
    event_type: str | None = None
    is_enabled: bool | None = None
    should_retry: bool | None = None
    webhook_events: tuple[EventSubscription, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWebhook(WebhookFields):
    """A webhook of the caller's organization."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookChanges(WebhookFields):
    """Changes to the webhook ``id``."""

    id: str | int | None = None


@dataclass(frozen=True, slots=True)
class WebhookRules:
    """What the services need from the settings: the key secrets are sealed with, and whether
    private addresses and http are allowed (tests and closed networks)."""

    secret_key: str
    allow_private: bool
    # The URL's DNS lookup is bounded like a send's connection (a mutation must not hang).
    lookup_seconds: float = 5.0

    @classmethod
    def of(cls, settings: Settings) -> WebhookRules:
        """The rules of these settings."""
        return cls(
            secret_key=settings.secret_key,
            allow_private=settings.webhook_allow_private_urls,
            lookup_seconds=settings.webhook_connect_timeout_seconds,
        )
