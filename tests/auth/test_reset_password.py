"""resetPassword, validateResetPasswordToken, signIn(reset_token) and the /reset_password page:
the email goes through the outbox to a real SMTP server; the answer never tells whether an
address has an account; links are single-use, expiring, stored hashed; a reset ends every
other session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from tests.audit.events import brief, stored
from tests.support.api import Api
from tests.support.auth_helpers import count_rows
from tests.support.emails import NEW_PASSWORD, SIGN_IN, deliver, outbox_rows, with_smtp
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.world import PATIENT_PASSWORD, World

from carebook.app import create_app
from carebook.auth.models import PasswordResetToken, SessionToken, SignupToken
from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.notifications.models import OutboxMessage

RESET = """mutation resetPassword($email: String) {
  resetPassword(input: {email: $email}) { messages { field message } } }"""
VALIDATE = "query($t: String) { validateResetPasswordToken(token: $t) }"
SIGN_IN_WITH_TOKEN = """mutation($t: String, $p: String) {
  signIn(input: {reset_token: $t, password: $p}) { token user { id } messages { field message } }
}"""
ME = "query { currentUser { id } }"
EMAIL = "patient.a@example.com"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server for this test."""
    yield from run_mailbox()


@pytest.fixture
def smtp_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """Settings delivering to the test's SMTP server."""
    return with_smtp(settings, mailbox.url)


async def _reset(api: Api, email: str | None) -> Any:
    return await api.post(RESET, {"email": email})


async def _emailed_token(
    api: Api, database: Database, smtp_settings: Settings, mailbox: Mailbox, email: str = EMAIL
) -> str:
    body = await _reset(api, email)
    assert "errors" not in body and not body["data"]["resetPassword"]["messages"], body
    report = await deliver(database, smtp_settings)
    assert report.sent >= 1
    mail = mailbox.received[-1]
    assert mail.rcpt_tos == [email]
    link = mail.link()
    assert link.startswith("http://127.0.0.1:8000/reset_password?token=")
    return link.partition("token=")[2]


async def _sign_in(api: Api, password: str) -> dict[str, Any]:
    signed_in: dict[str, Any] = (await api.data(SIGN_IN, {"e": EMAIL, "p": password}))["signIn"]
    return signed_in


async def test_the_emailed_link_resets_the_password_and_ends_every_other_session(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    old_session = api.with_token(world.a.patient_token)
    assert (await old_session.data(ME))["currentUser"]["id"] == str(world.a.patient_id)
    token = await _emailed_token(api, database, smtp_settings, mailbox)
    mail = mailbox.received[-1]
    assert "Reset your password" in mail.subject
    assert "Choose a new password" in mail.part("plain")
    assert (await api.data(VALIDATE, {"t": token}))["validateResetPasswordToken"] is True

    payload = (await api.data(SIGN_IN_WITH_TOKEN, {"t": token, "p": NEW_PASSWORD}))["signIn"]

    assert not payload["messages"]
    assert payload["user"] == {"id": str(world.a.patient_id)}
    assert (await api.with_token(payload["token"]).data(ME))["currentUser"]["id"] == str(
        world.a.patient_id
    )
    assert await old_session.error_codes(ME) == ["UNAUTHENTICATED"]  # the old session ended
    # The new password is an audited update of the patient's record.
    events = brief(await stored(database, operation="signIn"))
    assert ("signIn", "update", world.a.patient_id, True) in events
    assert (await _sign_in(api, PATIENT_PASSWORD))["token"] is None
    assert (await _sign_in(api, NEW_PASSWORD))["token"]
    # Single use.
    assert (await api.data(VALIDATE, {"t": token}))["validateResetPasswordToken"] is False
    again = (await api.data(SIGN_IN_WITH_TOKEN, {"t": token, "p": "another-Pass-77x"}))["signIn"]
    assert again["token"] is None
    assert again["messages"] == [
        {
            "field": "reset_token",
            "message": "This link has already been used. Ask for a new password reset email.",
        }
    ]


async def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    api: Api, world: World, database: Database
) -> None:
    known = await _reset(api, EMAIL)
    unknown = await _reset(api, "nobody.here@example.com")
    archived_or_known_case = await _reset(api, "PATIENT.A@example.com")
    assert known == unknown == archived_or_known_case
    assert "errors" not in known
    rows = await outbox_rows(database)
    assert [(r.kind, r.recipient_user_id) for r in rows] == [
        ("password_reset", world.a.patient_id),
        ("password_reset", world.a.patient_id),
    ]
    # A signed-in caller gets the same answer (staff can send a patient the email).
    staff = api.with_key(world.a.provider.api_key)
    assert await _reset(staff, "nobody.here@example.com") == known


async def test_bad_addresses_are_messages_that_depend_on_the_text_only(
    api: Api, database: Database
) -> None:
    blank = (await api.data(RESET, {"email": " "}))["resetPassword"]
    assert blank == {"messages": [{"field": "email", "message": "Email can't be blank"}]}
    malformed = (await api.data(RESET, {"email": "not-an-email"}))["resetPassword"]
    assert malformed["messages"][0]["field"] == "email"
    assert await outbox_rows(database) == []


async def test_tokens_are_stored_hashed_and_never_in_the_outbox(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    token = await _emailed_token(api, database, smtp_settings, mailbox)
    async with database.read_sessions() as session:
        [row] = (await session.execute(select(PasswordResetToken))).scalars()
        [message] = (await session.execute(select(OutboxMessage))).scalars()
    assert token not in (row.nonce, row.token_digest)
    assert token not in message.params
    assert row.user_id == world.a.patient_id and row.used_at is None


async def test_an_expired_link_is_refused_and_never_sent(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    token = await _emailed_token(api, database, smtp_settings, mailbox)
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(PasswordResetToken).values(expires_at=utcnow()))
    assert (await api.data(VALIDATE, {"t": token}))["validateResetPasswordToken"] is False
    payload = (await api.data(SIGN_IN_WITH_TOKEN, {"t": token, "p": NEW_PASSWORD}))["signIn"]
    assert payload["messages"] == [
        {
            "field": "reset_token",
            "message": "This link has expired. Ask for a new password reset email.",
        }
    ]
    assert (await _sign_in(api, PATIENT_PASSWORD))["token"]  # nothing changed

    # A link that expired before delivery is not sent at all.
    await _reset(api, EMAIL)
    async with database.write_sessions() as session, session.begin():
        await session.execute(update(PasswordResetToken).values(expires_at=utcnow()))
    report = await deliver(database, smtp_settings)
    assert (report.sent, report.failed) == (0, 1)


async def test_a_weak_password_is_a_message_and_keeps_the_link(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    token = await _emailed_token(api, database, smtp_settings, mailbox)
    weak = (await api.data(SIGN_IN_WITH_TOKEN, {"t": token, "p": "password1"}))["signIn"]
    assert weak["token"] is None and weak["messages"][0]["field"] == "password"
    assert (await api.data(VALIDATE, {"t": token}))["validateResetPasswordToken"] is True
    assert await api.with_token(world.a.patient_token).data(ME)  # still signed in


async def test_a_reset_uses_up_every_other_link_of_the_user(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    first = await _emailed_token(api, database, smtp_settings, mailbox)
    second = await _emailed_token(api, database, smtp_settings, mailbox)
    assert first != second
    assert not (await api.data(SIGN_IN_WITH_TOKEN, {"t": second, "p": NEW_PASSWORD}))["signIn"][
        "messages"
    ]
    assert (await api.data(VALIDATE, {"t": first}))["validateResetPasswordToken"] is False
    async with database.read_sessions() as session:
        unused = select(SignupToken).where(SignupToken.used_at.is_(None))
        assert (await session.execute(unused)).first() is None


async def test_an_archived_account_gets_no_email(
    api: Api, world: World, database: Database
) -> None:
    archive = """mutation($id: ID) { updateClient(input: {id: $id, active: false}) {
      messages { message } } }"""
    staff = api.with_key(world.a.provider.api_key)
    assert not (await staff.data(archive, {"id": str(world.a.patient_id)}))["updateClient"][
        "messages"
    ]
    assert "errors" not in await _reset(api, EMAIL)
    assert await outbox_rows(database) == []


async def test_unknown_tokens_are_refused(api: Api, client: httpx.AsyncClient) -> None:
    assert (await api.data(VALIDATE, {"t": "nope"}))["validateResetPasswordToken"] is False
    assert (await api.data(VALIDATE, {"t": None}))["validateResetPasswordToken"] is False
    page = await client.get("/reset_password?token=%3Cscript%3E")
    assert page.status_code == 400
    assert "This link is not valid" in page.text and "<script>" not in page.text


async def test_the_web_page_resets_the_password(
    api: Api,
    world: World,
    database: Database,
    smtp_settings: Settings,
    mailbox: Mailbox,
    client: httpx.AsyncClient,
) -> None:
    token = await _emailed_token(api, database, smtp_settings, mailbox)
    page = await client.get(f"/reset_password?token={token}")
    assert page.status_code == 200
    assert 'action="reset_password"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    form = {"token": token, "password": NEW_PASSWORD, "password_confirmation": "other"}
    mismatch = await client.post("/reset_password", data=form)
    assert mismatch.status_code == 400 and "doesn&#x27;t match" in mismatch.text
    form["password_confirmation"] = NEW_PASSWORD
    sessions_before = await count_rows(database, SessionToken)
    done = await client.post("/reset_password", data=form)
    assert done.status_code == 200 and "Your password is changed" in done.text
    # The page ends sessions and starts none: the patient signs in with the new password.
    assert await count_rows(database, SessionToken) == sessions_before
    [event] = await stored(database, operation="web:reset_password")
    assert brief([event]) == [("web:reset_password", "update", world.a.patient_id, True)]
    assert (await _sign_in(api, NEW_PASSWORD))["token"]
    assert await api.with_token(world.a.patient_token).error_codes(ME) == ["UNAUTHENTICATED"]
    used = await client.get(f"/reset_password?token={token}")
    assert used.status_code == 400 and "already been used" in used.text


async def _tokens(database: Database) -> int:
    async with database.read_sessions() as session:
        return len(list((await session.execute(select(PasswordResetToken.id))).scalars()))


async def test_the_answer_is_sent_before_a_known_address_gets_its_link(
    settings: Settings, database: Database, world: World
) -> None:
    # A known address does more work than an unknown one (a link and an email written); that
    # work runs after the answer left, so the answer's timing cannot tell the two apart.
    app = create_app(settings, database)
    body = json.dumps({"query": RESET, "variables": {"email": EMAIL}}).encode()
    tokens_when_answered: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            tokens_when_answered.append(await _tokens(database))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"carebook.test")],
        "client": ("203.0.113.9", 50000),
        "server": ("carebook.test", 80),
    }
    await app(scope, receive, send)
    assert tokens_when_answered == [0]
    assert await _tokens(database) == 1


CHANGE_PASSWORD = """mutation($input: updateUserInput) {
  updateUser(input: $input) { user { id } messages { field message } } }"""
LAST_SIGN_IN = "query($id: ID) { user(id: $id) { last_sign_in_at accessed_account } }"


async def test_a_new_password_set_otherwise_ends_outstanding_reset_links(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    # A link mailed earlier (perhaps to an attacker who had the inbox) dies when the owner
    # changes their password themselves.
    token = await _emailed_token(api, database, smtp_settings, mailbox)
    patient = api.with_token(world.a.patient_token)
    change = {"password": NEW_PASSWORD, "current_password": PATIENT_PASSWORD}
    changed = (await patient.data(CHANGE_PASSWORD, {"input": change}))["updateUser"]
    assert changed["messages"] is None
    assert (await api.data(VALIDATE, {"t": token}))["validateResetPasswordToken"] is False


async def test_a_reset_is_a_sign_in(
    api: Api, world: World, database: Database, smtp_settings: Settings, mailbox: Mailbox
) -> None:
    staff = api.with_key(world.a.provider.api_key)
    variables = {"id": str(world.a.patient_id)}
    assert (await staff.data(LAST_SIGN_IN, variables))["user"]["last_sign_in_at"] is None
    token = await _emailed_token(api, database, smtp_settings, mailbox)
    signed_in = await api.data(SIGN_IN_WITH_TOKEN, {"t": token, "p": NEW_PASSWORD})
    assert signed_in["signIn"]["token"]
    seen = (await staff.data(LAST_SIGN_IN, variables))["user"]
    assert seen["last_sign_in_at"] is not None and seen["accessed_account"] is True
