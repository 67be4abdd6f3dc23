"""Inputs of the form request mutations, with Healthie's names."""

from __future__ import annotations

import strawberry

from carebook.graphql.inputs import opt


@strawberry.input(
    name="createRequestedFormInput", description="Parameters for createRequestedFormCompletion."
)
class CreateRequestedFormInput:
    """Who is asked to fill in which form."""

    recipient_id: strawberry.ID | None = opt("ID of the patient asked to fill in the form.")
    recipient_ids: str | None = opt(
        "Comma-separated IDs of patients and user groups: '1,2,group-3' (a group: its active "
        "patients)."
    )
    custom_module_form_id: strawberry.ID | None = opt("ID of the form template.")
    form: str | None = opt("ID of the form template (the older name of custom_module_form_id).")
    item_type: str | None = opt("'CustomModuleForm' (default) or 'Questionnaire'.")
    is_recurring: bool | None = opt("Accepted for compatibility; Carebook has no recurrence.")
    skip_notification_email: bool | None = opt(
        "Accepted for compatibility: Carebook sends no email on creation; use updateClient's "
        "send_form_request_reminder."
    )
