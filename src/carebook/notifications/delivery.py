"""Delivering the outbox after commit: claim, render, send over SMTP, record the outcome.

- A message is claimed with one conditional UPDATE (pending and due, or a lapsed lease), so two
  workers, or a worker and ``carebook outbox deliver``, never send the same message twice.
- The claim holds a lease; a worker that dies mid-send leaves a lease that lapses, and the message
  is tried again later. Every message has a fixed Message-ID, so a retry after a crash that
  happened between the server's acceptance and the "sent" mark is recognisable downstream.
- Temporary failures (4xx replies, connection problems) back off exponentially; a 5xx reply, or
  ``email_max_attempts`` attempts, ends in ``failed``, listed by ``carebook outbox``.
- A message the recipient turned off after it was queued (notification settings) ends in
  ``skipped``, unsent.
- Logs name message ids, kinds and SMTP codes only: no names, addresses or bodies.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.models import PasswordResetToken, SignupToken
from carebook.config import Settings
from carebook.conversations import note_queries
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.forms import queries as form_queries
from carebook.forms.models import FormRequestStatus
from carebook.notifications import smtp
from carebook.notifications.models import EmailKind, OutboxMessage, OutboxStatus
from carebook.notifications.outbox import wants
from carebook.notifications.templates import render
from carebook.organizations.models import Organization
from carebook.scheduling.models import Appointment
from carebook.users import password_reset
from carebook.users.activation import ensure_signup_token, link_for
from carebook.users.models import User

logger = logging.getLogger("carebook.email")


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


class PermanentFailure(Exception):
    """The message can never be delivered (no address, 5xx reply, request gone)."""


class TurnedOff(Exception):
    """The recipient turned this kind of email off after it was queued: it is not sent."""


def _due(now: datetime) -> object:
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now),
    )


async def _due_ids(database: Database, limit: int) -> list[int]:
    async with database.read_sessions() as session:
        query = (
            select(OutboxMessage.id)
            .where(_due(utcnow()))  # type: ignore[arg-type]
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list((await session.execute(query)).scalars())


async def claim(database: Database, message_id: int, lease: timedelta) -> bool:
    """Take a due message for this worker; False when another worker has it (or it is done)."""
    now = utcnow()
    async with database.write_sessions() as session, session.begin():
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due(now))  # type: ignore[arg-type]
            .values(
                status=OutboxStatus.SENDING,
                lease_until=now + lease,
                attempts=OutboxMessage.attempts + 1,
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _link(settings: Settings, token_row: SignupToken | None) -> tuple[str, str] | None:
    """The email's one link: set a password, else the portal if one is configured, else none.

    Carebook serves no portal of its own: a link to its base URL would open a JSON API.
    """
    if token_row is not None:
        link = link_for(
            public_base_url=settings.public_base_url,
            secret_key=settings.secret_key,
            row=token_row,
        )
        if link is not None:
            return link, "Set your password"
    if settings.portal_url:
        return settings.portal_url, "Open your client portal"
    return None


async def _reset_link(
    session: AsyncSession, settings: Settings, user: User, params: dict[str, object]
) -> tuple[str, str]:
    """The link of a password-reset email; a used or expired one is never sent."""
    row = await session.get(PasswordResetToken, int(str(params["password_reset_id"])))
    if row is None or row.user_id != user.id or not password_reset.is_usable(row):
        raise PermanentFailure("reset link used or expired")
    link = password_reset.link_for(
        public_base_url=settings.public_base_url, secret_key=settings.secret_key, row=row
    )
    if link is None:
        raise PermanentFailure("reset link issued under another secret key")
    return link, "Choose a new password"


async def _compose(
    session: AsyncSession, settings: Settings, message: OutboxMessage
) -> EmailMessage:
    """The email of an outbox message, from the current records (may issue a signup token)."""
    user = await session.get(User, message.recipient_user_id)
    organization = await session.get(Organization, message.organization_id)
    if user is None or organization is None or not user.email:
        raise PermanentFailure("recipient has no email address")
    kind = EmailKind(message.kind)
    # An archived patient is still told that their email was used (they may ask to return).
    if not user.active and kind is not EmailKind.ACCOUNT_EXISTS:
        raise PermanentFailure("recipient is archived")
    params = json.loads(message.params or "{}")
    request_id = ""
    if kind is EmailKind.FORM_REQUEST_REMINDER:
        request_key = int(params["requested_form_completion_id"])
        request = await form_queries.get_request_unscoped(session, request_key)
        if request is None or request.recipient_id != user.id:
            raise PermanentFailure("form request not found")
        if request.status == FormRequestStatus.COMPLETED:
            raise PermanentFailure("form request already completed")
        request_id = str(request.id)
    when = await _appointment_time(session, kind, params, user.id)
    if kind is EmailKind.NEW_MESSAGE and not await note_queries.still_member(
        session, int(str(params["conversation_id"])), user.id
    ):
        raise PermanentFailure("recipient left the conversation")
    action: tuple[str, str] | None
    if kind in _WEBHOOK_KINDS:  # to a provider about their organization's webhook: no link
        action = None
    elif kind is EmailKind.PASSWORD_RESET:
        action = await _reset_link(session, settings, user, params)
    else:
        token_row = None
        if user.password_hash is None and user.active:  # never a set-password link to archived
            token_row = await ensure_signup_token(
                session, user=user, secret_key=settings.secret_key, ttl=settings.signup_token_ttl
            )
        action = _link(settings, token_row)
    rendered = render(
        kind,
        practice=organization.name,
        first_name=user.first_name or "",
        action=action,
        request_id=request_id,
        when=when,
        webhook=_webhook_values(kind, params),
    )
    email = EmailMessage()
    sender_name, sender_address = parseaddr(settings.email_from)
    email["From"] = formataddr((organization.name or sender_name, sender_address))
    email["To"] = user.email
    email["Subject"] = rendered.subject
    domain = sender_address.rpartition("@")[2] or "carebook.local"
    email["Message-ID"] = f"<outbox-{message.id}@{domain}>"
    # RFC 5322 requires it; without it some servers add their own and spam filters score it.
    email["Date"] = formatdate(usegmt=True)
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    return email


_WEBHOOK_KINDS = (EmailKind.WEBHOOK_FAILING, EmailKind.WEBHOOK_DISABLED)


def _webhook_values(kind: EmailKind, params: dict[str, object]) -> dict[str, str] | None:
    """The webhook's id, URL host and hours of failure: the only facts its emails give."""
    if kind not in _WEBHOOK_KINDS:
        return None
    return {
        "webhook_id": str(params["webhook_id"]),
        "webhook_host": str(params["url_host"]),
        "hours": str(params["hours"]),
    }


async def preview(session: AsyncSession, settings: Settings, message_id: int) -> EmailMessage:
    """The email an outbox message would be sent as now (``carebook outbox show``).

    Rendered from the current records, as delivery would; like delivery it may issue the
    recipient's set-password token, so the link shown is the one the email will carry.
    Raises PermanentFailure when there is no such message or it could not be sent.
    """
    message = await session.get(OutboxMessage, message_id)
    if message is None:
        raise PermanentFailure(f"no outbox message {message_id}")
    return await _compose(session, settings, message)


async def _appointment_time(
    session: AsyncSession, kind: EmailKind, params: dict[str, object], user_id: int
) -> str:
    """The start of the appointment an appointment email is about, in its booking's zone."""
    if kind not in (EmailKind.APPOINTMENT_BOOKED, EmailKind.APPOINTMENT_CANCELLED):
        return ""
    appointment = await session.get(Appointment, int(str(params["appointment_id"])))
    if appointment is None or appointment.patient_id != user_id:
        raise PermanentFailure("appointment not found")
    try:
        zone = ZoneInfo(appointment.timezone or "UTC")
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    start = appointment.start.astimezone(zone)
    hour = start.hour % 12 or 12
    return (
        f"{start:%A, %B} {start.day}, {start.year} at {hour}:{start:%M} "
        f"{'AM' if start.hour < 12 else 'PM'} ({start.tzname()})"
    )


def _classify(error: Exception) -> tuple[bool, str]:
    """(permanent?, a loggable description without addresses)."""
    import aiosmtplib  # loaded by the send that failed (notifications/smtp.py)

    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in error.recipients]
        return all(code >= 500 for code in codes), f"recipient refused {codes}"
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code >= 500, f"{type(error).__name__} {error.code}"
    return False, type(error).__name__


async def _finish(
    database: Database,
    message_id: int,
    *,
    status: OutboxStatus,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    values: dict[str, object] = {"status": status, "lease_until": None, "last_error": error}
    if status is OutboxStatus.SENT:
        values["sent_at"] = utcnow()
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    async with database.write_sessions() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(**values)
        )


async def deliver_one(
    database: Database, settings: Settings, config: smtp.SmtpConfig, message_id: int
) -> OutboxStatus | None:
    """Claim, render and send one message; its new status, or None when not claimed."""
    lease = timedelta(seconds=settings.smtp_timeout_seconds * 2 + 60)
    if not await claim(database, message_id, lease):
        return None
    attempts, kind = settings.email_max_attempts, "?"
    try:
        async with database.write_sessions() as session, session.begin():
            message = await session.get_one(OutboxMessage, message_id)
            attempts, kind = message.attempts, message.kind
            if not await wants(session, message.recipient_user_id, EmailKind(kind)):
                raise TurnedOff
            email = await _compose(session, settings, message)
        await smtp.send(config, email, seconds=settings.smtp_timeout_seconds)
    except TurnedOff:
        await _finish(database, message_id, status=OutboxStatus.SKIPPED)
        logger.info("email %s (%s) not sent: turned off by the recipient", message_id, kind)
        return OutboxStatus.SKIPPED
    except PermanentFailure as error:
        return await _failed(database, message_id, str(error))
    except Exception as error:  # SMTP, network, or a fault while rendering: retry, bounded
        permanent, description = _classify(error)
        if permanent or attempts >= settings.email_max_attempts:
            return await _failed(database, message_id, description)
        delay = settings.email_retry_base_seconds * 2 ** (attempts - 1)
        await _finish(
            database,
            message_id,
            status=OutboxStatus.PENDING,
            error=description,
            retry_at=utcnow() + timedelta(seconds=delay),
        )
        logger.warning(
            "email %s (%s) will be retried in %.0fs: %s", message_id, kind, delay, description
        )
        return OutboxStatus.PENDING
    await _finish(database, message_id, status=OutboxStatus.SENT)
    logger.info("email %s (%s) sent", message_id, kind)
    return OutboxStatus.SENT


async def _failed(database: Database, message_id: int, description: str) -> OutboxStatus:
    await _finish(database, message_id, status=OutboxStatus.FAILED, error=description)
    logger.error("email %s failed permanently: %s", message_id, description)
    return OutboxStatus.FAILED


async def deliver_pending(
    database: Database, settings: Settings, *, limit: int = 50
) -> DeliveryReport:
    """One pass over the due messages (``carebook outbox deliver``, and each worker tick)."""
    if not settings.smtp_url:
        raise ValueError("CAREBOOK_SMTP_URL is not set")
    config = smtp.parse_smtp_url(settings.smtp_url)
    report = DeliveryReport()
    for message_id in await _due_ids(database, limit):
        status = await deliver_one(database, settings, config, message_id)
        if status is OutboxStatus.SENT:
            report.sent += 1
        elif status is OutboxStatus.PENDING:
            report.retried += 1
        elif status is OutboxStatus.FAILED:
            report.failed += 1
        elif status is OutboxStatus.SKIPPED:
            report.skipped += 1
    return report
