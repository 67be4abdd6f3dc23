"""Which notification preference governs which email: the one table of it.

Emails about the account itself (the welcome/invitation, "someone used your email", a password
reset link) are not governed by a preference: they are how a person gets into, or learns about,
their account.
"""

from __future__ import annotations

from carebook.notifications.models import EmailKind

# The preferences Carebook stores and acts on, in Healthie's names (plus one of Carebook's:
# Healthie has no preference for form requests). Everything else of Healthie's
# NotificationSetting is not offered (docs/api.md).
PREFERENCES = (
    "send_message_emails",
    "send_email_on_appointment_book",
    "send_email_on_appointment_cancel",
    "send_form_request_emails",
)

GOVERNED_BY: dict[EmailKind, str] = {
    EmailKind.INTAKE_REMINDER: "send_form_request_emails",
    EmailKind.FORM_REQUEST_REMINDER: "send_form_request_emails",
    EmailKind.APPOINTMENT_BOOKED: "send_email_on_appointment_book",
    EmailKind.APPOINTMENT_CANCELLED: "send_email_on_appointment_cancel",
    EmailKind.NEW_MESSAGE: "send_message_emails",
}

# Healthie's representation_type of a SentNotificationRecord: the subgroup of the email's kind.
REPRESENTATION: dict[EmailKind, str] = {
    EmailKind.INTAKE_REMINDER: "forms",
    EmailKind.FORM_REQUEST_REMINDER: "forms",
    EmailKind.APPOINTMENT_BOOKED: "appointments",
    EmailKind.APPOINTMENT_CANCELLED: "appointments",
    EmailKind.NEW_MESSAGE: "chat_messages",
}
