"""The whole invitation path in a real browser: ``carebook serve`` with its delivery worker
sends the welcome email to a real SMTP server; Chromium opens the emailed link, the patient sets
a password (a weak one first), and signs in with it. Likewise the forgotten password: the patient
asks for a reset, opens the emailed link, chooses a new password, and the other sessions end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from carebook.auth.password_strength import TOO_WEAK_MESSAGE
from carebook.db.engine import Database
from tests.support.browser import chromium
from tests.support.emails import NEW_PASSWORD
from tests.support.mailbox import Mailbox, free_port, run_mailbox
from tests.support.serving import wait_until_healthy

CREATE_CLIENT = """mutation($e: String) { createClient(input: {first_name: "Rosalind",
  last_name: "Franklin", email: $e}) { user { id } messages { message } } }"""
SIGN_IN_SCRIPT = """async ([email, password]) => {
  const response = await fetch('/graphql', {method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({query: 'mutation($e: String, $p: String) { signIn(input: {email: $e, '
      + 'password: $p}) { token user { email } messages { message } } }',
      variables: {e: email, p: password}})});
  return (await response.json()).data.signIn;
}"""
RESET_SCRIPT = """async (email) => {
  const response = await fetch('/graphql', {method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({query: 'mutation($e: String) { resetPassword(input: {email: $e}) '
      + '{ messages { message } } }', variables: {e: email}})});
  return await response.json();
}"""
ME = "query { currentUser { id } }"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "carebook.cli.main", *args]


def _env(database_url: str, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "CAREBOOK_DATABASE_URL": database_url,
        "CAREBOOK_ARGON2_TIME_COST": "1",
        "CAREBOOK_ARGON2_MEMORY_COST_KIB": "1024",
        **more,
    }


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """The SMTP server the served app delivers to."""
    yield from run_mailbox()


@pytest.fixture
def server(database_url: str, database: Database, mailbox: Mailbox) -> Iterator[str]:
    """``carebook serve`` with SMTP configured, on a free port; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(
        database_url,
        CAREBOOK_SMTP_URL=mailbox.url,
        CAREBOOK_PUBLIC_BASE_URL=url,
        CAREBOOK_OUTBOX_POLL_SECONDS="0.2",
    )
    process = subprocess.Popen(
        _cli("serve", "--port", str(port)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    with chromium() as launched:
        yield launched


def _api_key(database_url: str) -> str:
    out = subprocess.run(
        _cli("provider", "create", "--email", "dr.browser@example.com", "--first-name", "Bea",
             "--last-name", "Rowser", "--organization", "Sunrise Nutrition",
             "--create-organization", "--json"),
        env=_env(database_url), capture_output=True, text=True, check=True,
    )  # fmt: skip
    created: dict[str, Any] = json.loads(out.stdout)
    return str(created["api_key"])


def test_invited_patient_sets_a_password_in_the_browser_and_signs_in(
    database_url: str, server: str, mailbox: Mailbox, browser: Browser
) -> None:
    key = _api_key(database_url)
    headers = {"Authorization": f"Basic {key}", "AuthorizationSource": "API"}
    body = {"query": CREATE_CLIENT, "variables": {"e": "rosalind@example.com"}}
    created = httpx.post(f"{server}/graphql", json=body, headers=headers, timeout=10).json()
    assert created["data"]["createClient"]["messages"] is None, created

    [mail] = mailbox.wait_for(1)  # delivered by the server's worker, after commit
    assert mail.rcpt_tos == ["rosalind@example.com"]
    assert "Sunrise Nutrition" in mail.subject
    link = mail.link()
    assert link.startswith(f"{server}/set_password?token=")

    page = browser.new_page()
    page.goto(link)
    page.fill("#password", "password1")
    page.fill("#password_confirmation", "password1")
    page.click("#submit")
    assert page.inner_text("[role=alert]") == TOO_WEAK_MESSAGE  # the password rule, shown
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_confirmation", NEW_PASSWORD)
    page.click("#submit")
    page.wait_for_selector("text=Your password is set")

    # The set-password page forbids scripts from connecting anywhere (its CSP); sign in from
    # another page of the server, as a client application would.
    page.goto(f"{server}/healthz")
    signed_in = page.evaluate(SIGN_IN_SCRIPT, ["rosalind@example.com", NEW_PASSWORD])
    assert signed_in["messages"] is None
    assert signed_in["token"]
    assert signed_in["user"]["email"] == "rosalind@example.com"

    page.goto(link)  # the link worked once
    assert "already been used" in page.inner_text("[role=alert]")


def _reset_in_browser(page: Page, server: str, email: str, mailbox: Mailbox, count: int) -> str:
    """Ask for a reset from a page of the server, as a client application would; the link."""
    page.goto(f"{server}/healthz")
    answer = page.evaluate(RESET_SCRIPT, email)
    assert "errors" not in answer and not answer["data"]["resetPassword"]["messages"], answer
    mail = mailbox.wait_for(count)[count - 1]
    assert mail.rcpt_tos == [email]
    assert "Reset your password" in mail.subject
    link = mail.link()
    assert link.startswith(f"{server}/reset_password?token=")
    return link


def _choose_password(page: Page, link: str, password: str) -> None:
    page.goto(link)
    page.fill("#password", password)
    page.fill("#password_confirmation", password)
    page.click("#submit")


def test_a_patient_resets_a_forgotten_password_in_the_browser(
    database_url: str, server: str, mailbox: Mailbox, browser: Browser
) -> None:
    key = _api_key(database_url)
    headers = {"Authorization": f"Basic {key}", "AuthorizationSource": "API"}
    body = {"query": CREATE_CLIENT.replace("email: $e}", "email: $e, dont_send_welcome: true}"),
            "variables": {"e": "rosalind@example.com"}}  # fmt: skip
    created = httpx.post(f"{server}/graphql", json=body, headers=headers, timeout=10).json()
    assert not created["data"]["createClient"]["messages"], created

    page = browser.new_page()
    link = _reset_in_browser(page, server, "rosalind@example.com", mailbox, 1)
    _choose_password(page, link, "password1")
    assert page.inner_text("[role=alert]") == TOO_WEAK_MESSAGE  # the password rule, shown
    _choose_password(page, link, NEW_PASSWORD)
    page.wait_for_selector("text=Your password is changed")
    page.goto(f"{server}/healthz")
    signed_in = page.evaluate(SIGN_IN_SCRIPT, ["rosalind@example.com", NEW_PASSWORD])
    assert not signed_in["messages"] and signed_in["token"]
    page.goto(link)  # the link worked once
    assert "already been used" in page.inner_text("[role=alert]")

    # A second reset ends the session signed in above.
    bearer = {"Authorization": f"Bearer {signed_in['token']}"}
    me = httpx.post(f"{server}/graphql", json={"query": ME}, headers=bearer, timeout=10).json()
    assert me["data"]["currentUser"]["id"] == created["data"]["createClient"]["user"]["id"]
    second = _reset_in_browser(page, server, "rosalind@example.com", mailbox, 2)
    _choose_password(page, second, "another-Kettle-47x")
    page.wait_for_selector("text=Your password is changed")
    me = httpx.post(f"{server}/graphql", json={"query": ME}, headers=bearer, timeout=10).json()
    assert me["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
