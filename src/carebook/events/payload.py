"""The body of a webhook POST and of a change-feed entry: Healthie's thin payload."""

from __future__ import annotations

import json
from typing import Any

from carebook.events.models import Event


def payload_of(event: Event) -> dict[str, Any]:
    """``resource_id`` (a JSON number, as integrations parse it), ``resource_id_type``,
    ``event_type``, ``changed_fields``, then the event's documented extra fields."""
    body: dict[str, Any] = {
        "resource_id": event.resource_id,
        "resource_id_type": event.resource_type,
        "event_type": event.event_type,
        "changed_fields": json.loads(event.changed_fields or "[]"),
    }
    for key, value in json.loads(event.extra or "{}").items():
        body.setdefault(key, value)
    return body


def body_bytes(event: Event) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys in payload order."""
    return json.dumps(payload_of(event), separators=(",", ":")).encode()
