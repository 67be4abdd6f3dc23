"""A real SMTP server (aiosmtpd) that keeps what it receives, and helpers to read the mail."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LINK = re.compile(r"https?://\S+/(?:set|reset)_password\?token=[\w%-]+")


def free_port() -> int:
    """A TCP port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One delivered message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        """The text/<subtype> body."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())

    def link(self) -> str:
        """The set-password (or reset-password) link of the plain-text part."""
        found = LINK.search(self.part("plain"))
        assert found, "no set-password link in the email"
        return found.group(0)


@dataclass
class Handler:
    """Stores messages; ``reply`` (e.g. '451 ...') makes RCPT answer that instead."""

    received: list[Received] = field(default_factory=list)
    reply: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.reply:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"


@dataclass
class Mailbox:
    """A running SMTP server and what it received."""

    handler: Handler
    port: int
    url: str

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def wait_for(self, count: int, seconds: float = 20) -> list[Received]:
        """Block until ``count`` messages arrived (for servers running in another process)."""
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.received) >= count, f"{len(self.received)} of {count} emails arrived"
        return self.received


def _authenticator(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok)

    return check


def run_mailbox(
    *,
    credentials: tuple[str, str] | None = None,
    tls_context: ssl.SSLContext | None = None,
    url_query: str = "",
) -> Iterator[Mailbox]:
    """Start a server on a free port for the duration of a fixture."""
    handler = Handler()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if credentials:
        kwargs.update(authenticator=_authenticator(*credentials), auth_required=True)
        kwargs["auth_require_tls"] = tls_context is not None
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    auth = f"{credentials[0]}:{credentials[1]}@" if credentials else ""
    try:
        yield Mailbox(handler, port, f"smtp://{auth}127.0.0.1:{port}{url_query}")
    finally:
        controller.stop()
