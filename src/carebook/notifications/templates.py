"""Email templates (plain text and HTML), rendered at delivery time with stdlib string.Template.

Values are HTML-escaped for the HTML part; subjects and texts name the practice.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from string import Template

from carebook.notifications.models import EmailKind


@dataclass(frozen=True)
class Rendered:
    """A rendered email."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class _Templates:
    subject: Template
    text: Template
    html: Template


_LAYOUT = Template(
    """<!doctype html>
<html><body style="font-family: sans-serif; color: #222; max-width: 36em">
<h1 style="font-size: 1.3em">$practice</h1>
$body
<p style="color: #777; font-size: .85em">Sent by $practice through Carebook.</p>
</body></html>
"""
)

_TEMPLATES: dict[EmailKind, _Templates] = {
    EmailKind.WELCOME: _Templates(
        Template("Welcome to $practice"),
        Template(
            "Hello $first_name,\n\n"
            "$practice has added you as a client.\n"
            "$action_text\n\n"
            "See you soon,\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>$practice has added you as a client.</p>\n"
            "$action_html\n"
            "<p>See you soon,<br>$practice</p>"
        ),
    ),
    EmailKind.INTAKE_REMINDER: _Templates(
        Template("Reminder: your intake forms for $practice"),
        Template(
            "Hello $first_name,\n\n"
            "$practice is waiting for your intake forms. Please complete them before your "
            "first visit.\n$action_text\n\nThank you,\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>$practice is waiting for your intake forms. Please complete them before "
            "your first visit.</p>\n$action_html\n<p>Thank you,<br>$practice</p>"
        ),
    ),
    EmailKind.FORM_REQUEST_REMINDER: _Templates(
        Template("Reminder: a form from $practice is waiting for you"),
        Template(
            "Hello $first_name,\n\n"
            "$practice asked you to fill in a form (request #$request_id), and it is not "
            "completed yet.\n$action_text\n\nThank you,\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>$practice asked you to fill in a form (request #$request_id), and it is not "
            "completed yet.</p>\n$action_html\n<p>Thank you,<br>$practice</p>"
        ),
    ),
    EmailKind.ACCOUNT_EXISTS: _Templates(
        Template("Your account with $practice"),
        Template(
            "Hello $first_name,\n\n"
            "Someone, perhaps you, just tried to sign up or book with $practice using this "
            "email address, or to move another account there to it. You already have an "
            "account there, so nothing was created or changed: please sign in to book or to "
            "see your records.\n$action_text\n\n"
            "If this was not you, you can ignore this email: your account has not changed. "
            "If you cannot sign in, please contact $practice.\n\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>Someone, perhaps you, just tried to sign up or book with $practice using this "
            "email address, or to move another account there to it. You already have an "
            "account there, so nothing was created or changed: please sign in to book or to "
            "see your records.</p>\n$action_html\n"
            "<p>If this was not you, you can ignore this email: your account has not changed. "
            "If you cannot sign in, please contact $practice.</p>\n<p>$practice</p>"
        ),
    ),
    EmailKind.APPOINTMENT_BOOKED: _Templates(
        Template("Your appointment with $practice is booked"),
        Template(
            "Hello $first_name,\n\n"
            "Your appointment with $practice is booked for $when.\n$action_text\n\n"
            "See you then,\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>Your appointment with $practice is booked for <strong>$when</strong>.</p>\n"
            "$action_html\n<p>See you then,<br>$practice</p>"
        ),
    ),
    EmailKind.APPOINTMENT_CANCELLED: _Templates(
        Template("Your appointment with $practice is cancelled"),
        Template(
            "Hello $first_name,\n\n"
            "Your appointment with $practice on $when is cancelled. To book another time, "
            "please contact $practice.\n$action_text\n\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>Your appointment with $practice on <strong>$when</strong> is cancelled. To book "
            "another time, please contact $practice.</p>\n$action_html\n<p>$practice</p>"
        ),
    ),
    EmailKind.PASSWORD_RESET: _Templates(
        Template("Reset your password for $practice"),
        Template(
            "Hello $first_name,\n\n"
            "Someone, perhaps you, asked to reset the password of your account with "
            "$practice.\n$action_text\n\n"
            "The link works once and for a limited time; using it signs you out everywhere "
            "else. If you did not ask for it, ignore this email: your password has not "
            "changed.\n\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>Someone, perhaps you, asked to reset the password of your account with "
            "$practice.</p>\n$action_html\n"
            "<p>The link works once and for a limited time; using it signs you out everywhere "
            "else. If you did not ask for it, ignore this email: your password has not "
            "changed.</p>\n<p>$practice</p>"
        ),
    ),
    EmailKind.NEW_MESSAGE: _Templates(
        Template("You have a new message from $practice"),
        Template(
            "Hello $first_name,\n\n"
            "You have a new message in a conversation with $practice. For your privacy it is "
            "not in this email: please sign in to read it.\n$action_text\n\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>You have a new message in a conversation with $practice. For your privacy it "
            "is not in this email: please sign in to read it.</p>\n$action_html\n"
            "<p>$practice</p>"
        ),
    ),
    EmailKind.WEBHOOK_FAILING: _Templates(
        Template("A webhook of $practice is failing"),
        Template(
            "Hello $first_name,\n\n"
            "Carebook has not been able to deliver events to webhook #$webhook_id "
            "($webhook_host) for about $hours hours. It keeps retrying; if the failures go on, "
            "the webhook will be disabled. Please check the receiving service.\n"
            "$action_text\n\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>Carebook has not been able to deliver events to webhook #$webhook_id "
            "(<strong>$webhook_host</strong>) for about $hours hours. It keeps retrying; if "
            "the failures go on, the webhook will be disabled. Please check the receiving "
            "service.</p>\n$action_html\n<p>$practice</p>"
        ),
    ),
    EmailKind.WEBHOOK_DISABLED: _Templates(
        Template("A webhook of $practice has been disabled"),
        Template(
            "Hello $first_name,\n\n"
            "Webhook #$webhook_id ($webhook_host) has failed for $hours hours and has been "
            "disabled: no more events are sent to it. Fix the receiving service, then enable "
            "the webhook again (updateWebhook).\n$action_text\n\n$practice\n"
        ),
        Template(
            "<p>Hello $first_name,</p>\n"
            "<p>Webhook #$webhook_id (<strong>$webhook_host</strong>) has failed for $hours "
            "hours and has been disabled: no more events are sent to it. Fix the receiving "
            "service, then enable the webhook again (updateWebhook).</p>\n$action_html\n"
            "<p>$practice</p>"
        ),
    ),
}


def render(
    kind: EmailKind,
    *,
    practice: str,
    first_name: str,
    action: tuple[str, str] | None,
    request_id: str = "",
    when: str = "",
    webhook: dict[str, str] | None = None,
) -> Rendered:
    """The subject, text and HTML of one email; ``action`` is its (link, label), if any.

    ``webhook``: ``webhook_id``, ``webhook_host`` and ``hours`` of the webhook emails.
    """
    templates = _TEMPLATES[kind]
    text_values = {
        "practice": practice,
        "first_name": first_name,
        "request_id": request_id,
        "when": when,
        **(webhook or {}),
        "action_text": f"{action[1]}: {action[0]}" if action else "",
    }
    html_values = {key: html.escape(value) for key, value in text_values.items()}
    html_values["action_html"] = (
        f'<p><a href="{html.escape(action[0])}" style="font-weight: bold">'
        f"{html.escape(action[1])}</a></p>"
        if action
        else ""
    )
    body = templates.html.substitute(html_values)
    # Without a link its line stays empty: fold the blank lines it leaves into one.
    text = re.sub(r"\n{3,}", "\n\n", templates.text.substitute(text_values))
    return Rendered(
        subject=templates.subject.substitute(text_values),
        text=text,
        html=_LAYOUT.substitute(practice=html_values["practice"], body=body),
    )
