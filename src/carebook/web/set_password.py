"""``/set_password?token=...``: where an invited patient types their new password; and
``/reset_password?token=...``, the same page for a password-reset link (:class:`ResetPasswordPage`).

A plain HTML form (no script needed); the POST goes through the same service as
``signIn(input: {reset_token, password})``. The token in the form doubles as the CSRF guard.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from string import Template
from urllib.parse import parse_qs

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from carebook.audit.trail import given_request_id, open_trail, request_origin
from carebook.auth.passwords import Passwords
from carebook.client_address import client_address, rate_limit_subject
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.errors import Invalid
from carebook.ratelimit import guard, policies
from carebook.ratelimit.guard import Check
from carebook.ratelimit.service import Limit
from carebook.users import activation, password_reset
from carebook.users.new_password import Prehashed, prehash

MAX_FORM_BYTES = 8192
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the URL holds the token
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}

_PAGE = Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>body{font-family:sans-serif;max-width:26em;margin:3em auto;padding:0 1em;color:#222}
label{display:block;margin-top:1em}input{width:100%;padding:.5em;box-sizing:border-box}
button{margin-top:1.5em;padding:.6em 1.2em}.error{color:#b00020}.ok{color:#0a6b2d}</style>
</head><body><h1>$title</h1>
$body
</body></html>
"""
)

_FORM = Template(
    """$message<form method="post" action="$action">
<input type="hidden" name="token" value="$token">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password"
 required minlength="8">
<label for="password_confirmation">Confirm the new password</label>
<input id="password_confirmation" name="password_confirmation" type="password"
 autocomplete="new-password" required>
<button type="submit" id="submit">$button</button>
</form>
<p>At least 8 characters, and not easy to guess.</p>
"""
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.substitute(title=html.escape(title), body=body), status_code=status, headers=_HEADERS
    )


def _error(text: str) -> str:
    return f'<p class="error" role="alert">{html.escape(text)}</p>\n'


# Plain, like every limit's GraphQL message: nothing about the link or the account.
TOO_MANY = "Too many attempts from your network; try again in {seconds} seconds."


@dataclass(frozen=True)
class Form:
    """A submitted form's fields, and its new password's hash if made ahead (the fields hold
    the password: never in ``repr``)."""

    fields: dict[str, str] = field(repr=False)
    prehashed: Prehashed | None


class SetPasswordPage:
    """GET shows the form (or why the link no longer works); POST sets the password.

    The class attributes and the two service hooks say which link it serves; subclasses serve
    other links with the same page.
    """

    TITLE = "Set your password"
    ACTION = "set_password"
    BUTTON = "Set password"
    DONE_TITLE = "Your password is set"
    DONE_TEXT = "Your account is active. You can now sign in with your email and your new password."
    # The audit trail's operation for the page's write (GraphQL's are root field names).
    OPERATION = "web:set_password"

    def __init__(self, settings: Settings, database: Database, passwords: Passwords) -> None:
        self.settings = settings
        self.database = database
        self.passwords = passwords

    async def check(self, session: AsyncSession, token: str) -> None:
        """Raise Invalid (on reset_token) when the link no longer works."""
        await activation.check_token(session, token)

    async def apply(self, session: AsyncSession, token: str, form: Form) -> None:
        """Set the password from the link (the same service as signIn's reset_token). No
        session is issued: the page signs no one in, the user signs in with the new password."""
        await activation.activate(
            session,
            passwords=self.passwords,
            token=token,
            password=form.fields.get("password"),
            password_confirmation=form.fields.get("password_confirmation", ""),
            prehashed=form.prehashed,
        )

    async def _prehash(self, token: str, fields: dict[str, str]) -> Prehashed | None:
        """The new password's hash, made before the write transaction (which must not hold the
        write lock for argon2); none for a link that no longer works or a mismatched
        confirmation: their message needs no hash."""
        if fields.get("password_confirmation", "") != fields.get("password"):
            return None
        async with self.database.read_sessions() as session:
            try:
                await self.check(session, token)
            except Invalid:
                return None
        return await prehash(self.passwords, fields.get("password"))

    def _form(self, token: str, message: str = "") -> str:
        return _FORM.substitute(
            token=html.escape(token, quote=True),
            message=message,
            action=self.ACTION,
            button=html.escape(self.BUTTON),
        )

    def check_limits(self) -> list[Limit]:
        """Limits counted per client address each time the page is loaded or submitted (none
        yet for the invitation page)."""
        return []

    async def _refusal(self, request: Request) -> Response | None:
        """A 429 page when the client address is over a limit of :meth:`check_limits`."""
        subject = rate_limit_subject(client_address(request) or "unknown")
        checks = [Check(limit, subject) for limit in self.check_limits()]
        refused = await guard.attempt(self.database, secret=self.settings.secret_key, checks=checks)
        if refused is None:
            return None
        seconds = refused.retry_after
        response = _page(self.TITLE, _error(TOO_MANY.format(seconds=seconds)), 429)
        response.headers["Retry-After"] = str(seconds)
        return response

    async def handle(self, request: Request) -> Response:
        # Both a load and a submission tell whether a token works: each counts as one check.
        refused = await self._refusal(request)
        if refused is not None:
            return refused
        if request.method == "POST":
            return await self._post(request)
        token = request.query_params.get("token", "")
        async with self.database.read_sessions() as session:
            try:
                await self.check(session, token)
            except Invalid as error:
                return _page(self.TITLE, _error(error.messages[0].message), 400)
        return _page(self.TITLE, self._form(token))

    async def _post(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return _page(self.TITLE, _error("The form is too large."), 413)
        fields = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        token = fields.get("token", "")
        form = Form(fields, await self._prehash(token, fields))

        async def work(session: AsyncSession) -> None:
            # The page is its own entry point: its write is audited under this operation name.
            given_id = given_request_id(request.scope, request.headers)
            origin = request_origin(None, client_address(request), given_id)
            open_trail(session, origin, self.OPERATION)
            await self.apply(session, token, form)

        try:
            async with self.database.write_sessions() as session, session.begin():
                await work(session)
        except Invalid as error:
            messages = "".join(_error(m.message) for m in error.messages)
            if any(m.field == "reset_token" for m in error.messages):
                return _page(self.TITLE, messages, 400)
            return _page(self.TITLE, self._form(token, messages), 400)
        return _page(
            self.DONE_TITLE, f'<p class="ok" role="status">{html.escape(self.DONE_TEXT)}</p>'
        )


class ResetPasswordPage(SetPasswordPage):
    """``/reset_password?token=``: choose a new password from a resetPassword email's link.

    Using it ends every other session of the account (users/password_reset.py).
    """

    TITLE = "Choose a new password"
    ACTION = "reset_password"
    BUTTON = "Save the new password"
    DONE_TITLE = "Your password is changed"
    DONE_TEXT = (
        "You can now sign in with your email and your new password. Every other session of "
        "your account has been signed out."
    )
    OPERATION = "web:reset_password"

    def check_limits(self) -> list[Limit]:
        """The page checks a reset token: limited as validateResetPasswordToken is."""
        return [policies.reset_token_check_address(self.settings)]

    async def check(self, session: AsyncSession, token: str) -> None:
        """Raise Invalid (on reset_token) when the reset link no longer works."""
        await password_reset.check_token(session, token)

    async def apply(self, session: AsyncSession, token: str, form: Form) -> None:
        """Reset the password (the same service as signIn's reset_token); no session issued."""
        await password_reset.reset(
            session,
            passwords=self.passwords,
            token=token,
            password=form.fields.get("password"),
            password_confirmation=form.fields.get("password_confirmation", ""),
            prehashed=form.prehashed,
        )
