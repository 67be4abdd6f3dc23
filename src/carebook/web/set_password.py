"""``/set_password?token=...``: where an invited patient types their new password.

A plain HTML form (no script needed); the POST goes through the same activation service as
``signIn(input: {reset_token, password})``. The token in the form doubles as the CSRF guard.
"""

from __future__ import annotations

import html
from string import Template
from urllib.parse import parse_qs

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from carebook.audit.trail import open_trail, request_origin
from carebook.auth.passwords import Passwords
from carebook.client_address import client_address
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.errors import Invalid
from carebook.users import activation

MAX_FORM_BYTES = 8192
# The audit trail's operation for the page's write (GraphQL's are root field names).
OPERATION = "web:set_password"
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
    """$message<form method="post" action="set_password">
<input type="hidden" name="token" value="$token">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password"
 required minlength="8">
<label for="password_confirmation">Confirm the new password</label>
<input id="password_confirmation" name="password_confirmation" type="password"
 autocomplete="new-password" required>
<button type="submit" id="submit">Set password</button>
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


def _form(token: str, message: str = "") -> str:
    return _FORM.substitute(token=html.escape(token, quote=True), message=message)


class SetPasswordPage:
    """GET shows the form (or why the link no longer works); POST sets the password."""

    def __init__(self, settings: Settings, database: Database, passwords: Passwords) -> None:
        self.settings = settings
        self.database = database
        self.passwords = passwords

    async def handle(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._post(request)
        token = request.query_params.get("token", "")
        async with self.database.read_sessions() as session:
            try:
                await activation.check_token(session, token)
            except Invalid as error:
                return _page("Set your password", _error(error.messages[0].message), 400)
        return _page("Set your password", _form(token))

    async def _post(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return _page("Set your password", _error("The form is too large."), 413)
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        token = form.get("token", "")

        async def work(session: AsyncSession) -> None:
            # The page is its own entry point: its write is audited under this operation name.
            given_id = request.headers.get("x-request-id", "")
            origin = request_origin(None, client_address(request), given_id)
            open_trail(session, origin, OPERATION)
            await activation.activate(
                session,
                passwords=self.passwords,
                token=token,
                password=form.get("password"),
                password_confirmation=form.get("password_confirmation", ""),
                ttl=self.settings.session_ttl,
            )

        try:
            async with self.database.write_sessions() as session, session.begin():
                await work(session)
        except Invalid as error:
            messages = "".join(_error(m.message) for m in error.messages)
            if any(m.field == "reset_token" for m in error.messages):
                return _page("Set your password", messages, 400)
            return _page("Set your password", _form(token, messages), 400)
        return _page(
            "Your password is set",
            '<p class="ok" role="status">Your account is active. You can now sign in with your '
            "email and your new password.</p>",
        )
