"""GraphiQL in a real browser that can reach nothing but Carebook: ``carebook serve`` on
loopback, Debian's Chromium with every request to another origin refused and recorded. The page
must still load GraphiQL, offer the API key's two headers, and run a typed query with a key."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from tests.support.browser import chromium
from tests.support.mailbox import free_port
from tests.support.serving import wait_until_healthy
from tests.support.world import World

from carebook.db.engine import Database
from carebook.graphql.permissions import REJECTED, SIGN_IN

# Bounds for the page's own work (loading 4 MB of scripts, one query) on a loaded machine.
WAIT_MS = 60_000
QUERY = "query { currentUser { id } }"


@pytest.fixture
def server(database_url: str, database: Database) -> Iterator[str]:
    """``carebook serve`` (GraphiQL on, as by default) on a free port; its URL."""
    port = free_port()
    env = {**os.environ, "CAREBOOK_DATABASE_URL": database_url, "CAREBOOK_GRAPHIQL": "true"}
    process = subprocess.Popen(
        [sys.executable, "-m", "carebook.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
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


def _offline_page(browser: Browser, server: str) -> tuple[Page, list[str], list[str]]:
    """A page that may reach ``server`` only; the addresses it tried elsewhere, and its
    console's errors (a Content-Security-Policy refusal shows there)."""
    page = browser.new_page()
    elsewhere: list[str] = []
    errors: list[str] = []

    def only_server(route: Route) -> None:
        url = route.request.url
        if url == server or url.startswith(f"{server}/"):
            route.continue_()
            return
        elsewhere.append(url)
        route.abort("internetdisconnected")

    page.route("**/*", only_server)
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return page, elsewhere, errors


def _replace_text(page: Page, editor: str, text: str) -> None:
    """Select all of a GraphiQL editor's text and type ``text`` in its place."""
    page.click(f"{editor} .CodeMirror-lines")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    # Inserted as typed input, without the editor's bracket auto-closing on each key.
    page.keyboard.insert_text(text)


def test_graphiql_loads_and_runs_a_query_with_no_network_but_the_server(
    world: World, server: str, browser: Browser
) -> None:
    # world first: its async set-up cannot run once Playwright's loop is running.
    page, elsewhere, errors = _offline_page(browser, server)
    page.goto(f"{server}/graphql")
    page.wait_for_selector(".graphiql-execute-button", timeout=WAIT_MS)

    headers = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)")
    headers.locator(".CodeMirror").wait_for(timeout=WAIT_MS)
    prefilled = headers.inner_text()
    assert '"Authorization": "Basic <your API key>"' in prefilled
    assert '"AuthorizationSource": "API"' in prefilled

    # The untouched placeholder is not sent: the caller is anonymous, not a rejected key.
    page.click(".graphiql-execute-button")
    expect(page.locator(".graphiql-response")).to_contain_text(SIGN_IN, timeout=WAIT_MS)
    assert REJECTED not in page.locator(".graphiql-response").inner_text()

    key = world.a.provider.api_key
    _replace_text(
        page,
        ".graphiql-editor-tool .graphiql-editor:not(.hidden)",
        f'{{"Authorization": "Basic {key}", "AuthorizationSource": "API"}}',
    )
    _replace_text(page, ".graphiql-query-editor", QUERY)
    page.click(".graphiql-execute-button")
    # The provider the key belongs to: the headers typed in were sent with the query.
    expect(page.locator(".graphiql-response")).to_contain_text(
        f'"id": "{world.a.provider.user_id}"', timeout=WAIT_MS
    )

    assert elsewhere == []
    assert not [error for error in errors if "Content Security Policy" in error], errors
