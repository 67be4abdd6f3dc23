"""Typed inputs of the form-request services (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Recurrence:
    """Healthie's recurrence inputs, as strings (checked by forms/recurrence.py)."""

    frequency: str | None = None
    period: str | None = None
    weekday: str | None = None
    monthday: str | None = None
    hour: str | None = None
    minute: str | None = None
    ends_on: str | None = None
    recurrence_ends: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FormRequest(Recurrence):
    """``createRequestedFormCompletion``: which form, for which patients, and how often.

    ``form`` is the older name of ``custom_module_form_id``; ``recipient_ids`` a comma-separated
    list of patient ids, added to ``recipient_id``.
    """

    custom_module_form_id: str | None = None
    form: str | None = None
    item_type: str | None = None
    recipient_id: str | int | None = None
    recipient_ids: str | None = None
    is_recurring: bool | None = None
    metadata: str | None = None
    skip_notification_email: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecurringFormChanges(Recurrence):
    """``updateRecurringForm``: the fields given are changed, the others kept."""

    id: str | None = None
    is_active: bool | None = None
    is_recurring: bool | None = None
    recipient_ids: str | None = None
