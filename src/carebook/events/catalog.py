"""The event types Carebook emits, named as Healthie's webhook event reference names them.

Each has the GraphQL type its ``resource_id`` names (``resource_id_type`` on the wire). The
mutations that fire each are listed in docs/webhooks.md; ``webhookEventTypes`` lists these.
Only the events of things Carebook has: Healthie's requested_form_completion.updated
(nothing changes a request's status yet) and group moves (Healthie reports them as
patient.updated with ``user_group_id``) have no entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EventType:
    """One kind of event: its wire name and the GraphQL type of its resource."""

    name: str
    resource_type: str


_ALL = [
    EventType("patient.created", "User"),
    EventType("patient.updated", "User"),
    EventType("applied_tag.created", "AppliedTag"),
    EventType("applied_tag.deleted", "AppliedTag"),
    EventType("appointment.created", "Appointment"),
    EventType("appointment.updated", "Appointment"),
    EventType("appointment.deleted", "Appointment"),
    EventType("requested_form_completion.created", "RequestedFormCompletion"),
    EventType("requested_form_completion.deleted", "RequestedFormCompletion"),
    EventType("location.created", "Location"),
    EventType("location.updated", "Location"),
    EventType("location.deleted", "Location"),
    # Chat messages (conversations/notes.py); a changed message fires none, as in Healthie's
    # reference, which has no message.updated.
    EventType("message.created", "Note"),
    EventType("message.deleted", "Note"),
    # Emitted by carebook/conversations/members.py, one per membership added or removed.
    EventType("conversation_membership.created", "ConversationMembership"),
    EventType("conversation_membership.deleted", "ConversationMembership"),
]

EVENT_TYPES: dict[str, EventType] = {event.name: event for event in _ALL}
