"""The SMTP connection settings in ``CAREBOOK_SMTP_URL``, and sending one message.

- ``smtp://user:pass@host:587`` : STARTTLS when the server offers it (opportunistic);
- ``smtp://host:587?starttls=required`` : STARTTLS or fail; ``?starttls=off`` never;
- ``smtps://user:pass@host:465`` : TLS from the first byte;
- ``?verify=false`` accepts an unverifiable certificate (test servers only).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to connect."""

    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None  # None: opportunistic
    validate_certs: bool


def parse_smtp_url(url: str) -> SmtpConfig:
    """Read an smtp:// or smtps:// URL; ValueError when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("CAREBOOK_SMTP_URL must look like smtp://user:pass@host:port")
    query = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    use_tls = parts.scheme == "smtps"
    start_tls: bool | None = None
    if use_tls or query.get("starttls") in ("off", "false", "0", "no"):
        start_tls = False
    elif query.get("starttls") in ("required", "true", "1", "yes"):
        start_tls = True
    return SmtpConfig(
        hostname=parts.hostname,
        port=parts.port or (465 if use_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=start_tls,
        validate_certs=query.get("verify", "true") not in ("off", "false", "0", "no"),
    )


async def send(config: SmtpConfig, message: EmailMessage, *, seconds: float) -> None:
    """Deliver one message; aiosmtplib's exceptions tell temporary from permanent failures."""
    # Imported on the first message, not at start-up (docs/performance.md, "Start-up"): a
    # server without CAREBOOK_SMTP_URL never sends one.
    import aiosmtplib

    await aiosmtplib.send(
        message,
        hostname=config.hostname,
        port=config.port,
        username=config.username,
        password=config.password,
        use_tls=config.use_tls,
        start_tls=config.start_tls,
        validate_certs=config.validate_certs,
        timeout=seconds,
    )
