"""Typed input of the form-request service (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class FormRequest:
    """``createRequestedFormCompletion``: which form, for which patients.

    ``form`` is the older name of ``custom_module_form_id``; ``recipient_ids`` a comma-separated
    list of patient ids, added to ``recipient_id``.
    """

    custom_module_form_id: str | None = None
    form: str | None = None
    item_type: str | None = None
    recipient_id: str | int | None = None
    recipient_ids: str | None = None
