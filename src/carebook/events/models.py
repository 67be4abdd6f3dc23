"""The tables of events and webhooks.

``events`` is a transactional outbox and a change feed at once: a service adds a row in the
same transaction as the change it describes (:func:`carebook.events.emit.emit`), so a rolled-back
write leaves none and a committed one is never lost. Its id is the feed's cursor. Delivery fans
each event out to the matching webhooks of its organization (``webhook_deliveries``), and every
attempt is logged in ``sent_webhooks`` (Healthie's ``SentWebhook``).

Events hold references only (ids, type names, the names of changed fields), never patient data:
a receiver queries back through the API, as Healthie's thin payloads intend.
"""

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, text, true
from sqlalchemy.orm import Mapped, mapped_column

from carebook.db.base import Base, Timestamped, utcnow
from carebook.db.types import UTCDateTime


class Event(Base):
    """One change of one resource of an organization (Healthie's webhook event)."""

    __tablename__ = "events"
    __table_args__ = (
        # The feed: an organization's events after a cursor.
        Index("ix_events_organization_id_id", "organization_id", "id"),
        # Fan-out finds the events not yet given to the webhooks, oldest first: only those are
        # in this index, so a claim reads none of the (many) dispatched ones (migration 0041).
        Index(
            "ix_events_undispatched",
            "id",
            postgresql_where=text("dispatched = false"),
            sqlite_where=text("dispatched = 0"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # Healthie's name: "patient.updated", "applied_tag.created" (events/catalog.py).
    event_type: Mapped[str] = mapped_column(String(64))
    # The GraphQL type name of the resource ("User", "AppliedTag", "Appointment").
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[int] = mapped_column(Integer)
    # JSON list of the Healthie field names an update changed; "[]" for created and deleted.
    changed_fields: Mapped[str] = mapped_column(Text, default="[]")
    # JSON object of the extra payload fields Healthie documents for the event (ids only).
    extra: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Whether delivery has created this event's webhook_deliveries (done once, in one
    # transaction with the claim, so several servers never fan an event out twice).
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Webhook(Timestamped, Base):
    """A URL an organization receives events at (Healthie's ``Webhook``)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    # Healthie's single event type of a webhook; webhook_events may subscribe to more.
    event_type: Mapped[str | None] = mapped_column(String(64))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    should_retry: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The signing secret, sealed with a key derived from CAREBOOK_SECRET_KEY (never stored
    # readable; shown once, when created or rotated by expireWebhookSignature).
    secret_sealed: Mapped[str] = mapped_column(Text)
    # When the organization's providers were warned of its failures (about a day of them).
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When delivery turned it off after failing for the retry period (is_enabled false).
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class WebhookSubscription(Timestamped, Base):
    """One event type a webhook receives (Healthie's ``WebhookEvent``)."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(64))
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retry_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DeliveryStatus(enum.StrEnum):
    """Where one event's delivery to one webhook is."""

    PENDING = "pending"
    # Claimed by a worker until lease_until; a lapsed lease (a crashed worker) is due again.
    SENDING = "sending"
    DELIVERED = "delivered"
    # Given up: should_retry off, the retry period over, or the webhook disabled or deleted.
    FAILED = "failed"


class WebhookDelivery(Base):
    """One event to send to one webhook, with its retry state."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The due deliveries, and per-resource order: the earlier undelivered of a resource.
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_id_resource", "webhook_id", "resource_key", "id"),
        # Each webhook's pending deliveries, soonest due first: the dispatcher's fair pick
        # reads a few of each webhook's, whatever the backlog (migration 0037).
        Index(
            "ix_webhook_deliveries_pending_due",
            "webhook_id",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # "<resource_type>:<resource_id>": a later event of a resource waits for the earlier one.
    resource_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An HTTP status or an error class name: response bodies are never stored.
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SentWebhook(Base):
    """One attempt to send an event to a webhook (Healthie's ``SentWebhook``), kept
    ``CAREBOOK_SENT_WEBHOOK_RETENTION_DAYS`` (180 by default, as Healthie documents)."""

    __tablename__ = "sent_webhooks"
    __table_args__ = (Index("ix_sent_webhooks_organization_id_id", "organization_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhooks.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[int | None] = mapped_column(Integer)
    resource_id_type: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(2048))
    # The receiver's HTTP status as text ("200"), or null when no response came.
    http_response_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
