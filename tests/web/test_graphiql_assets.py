"""GraphiQL's page and files over HTTP: the page names only this server's files, each served
with its content type, immutable caching and the bytes its integrity hash promises; the
committed copies are the ones scripts/vendor_graphiql recorded; none of it is served where
GraphiQL is off."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.web.graphiql import ASSETS_DIRECTORY, ASSETS_PATH

HTML = {"Accept": "text/html"}
TYPES = {".js": "text/javascript", ".css": "text/css"}
PRODUCTION = {
    "production": True,
    "secret_key": "a-test-secret-that-is-not-default",
    "payment_provider": None,
}


def _sri(data: bytes) -> str:
    return f"sha384-{base64.b64encode(hashlib.sha384(data).digest()).decode()}"


def _loaded(page: str) -> list[tuple[str, str]]:
    """(address, integrity) of every script and stylesheet the page loads."""
    tags = re.findall(r"<(?:script|link)\b[^>]*>", page)
    found = []
    for tag in tags:
        address = re.search(r'(?:src|href)="([^"]+)"', tag)
        if address:
            integrity = re.search(r'integrity="([^"]+)"', tag)
            found.append((address.group(1), integrity.group(1) if integrity else ""))
    return found


async def test_the_page_loads_only_this_servers_files(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    loaded = _loaded(page.text)
    assert len(loaded) == 5  # React, ReactDOM, GraphiQL's script and styles, Carebook's start
    assert all(address.startswith(f"{ASSETS_PATH}/") for address, _ in loaded), loaded
    assert "unpkg" not in page.text and "https://" not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert page.headers["cache-control"] == "no-store"  # the page itself is never kept

    for address, integrity in loaded:
        asset = await client.get(address)
        assert asset.status_code == 200, address
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["content-type"].startswith(TYPES[Path(address.split("?")[0]).suffix])
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert _sri(asset.content) == integrity, address


async def test_the_page_pre_fills_the_api_keys_two_headers(client: httpx.AsyncClient) -> None:
    page = (await client.get("/graphql", headers=HTML)).text
    [boot] = [address for address, _ in _loaded(page) if "carebook-graphiql.js" in address]
    script = (await client.get(boot)).text
    assert 'Authorization: PLACEHOLDER, AuthorizationSource: "API"' in script
    assert 'var PLACEHOLDER = "Basic <your API key>";' in script
    assert "shouldPersistHeaders: false" in script  # a key typed in stays out of storage


def test_committed_files_are_the_ones_the_script_recorded() -> None:
    recorded: dict[str, str] = json.loads((ASSETS_DIRECTORY / "assets.json").read_text())
    assert set(recorded) == {
        "react-18.2.0/react.production.min.js",
        "react-dom-18.2.0/react-dom.production.min.js",
        "graphiql-3.8.3/graphiql.min.js",
        "graphiql-3.8.3/graphiql.min.css",
    }
    for name, integrity in recorded.items():
        assert _sri((ASSETS_DIRECTORY / name).read_bytes()) == integrity, name
        assert (ASSETS_DIRECTORY / name).with_name("LICENSE").is_file(), name


async def test_a_revalidated_file_stays_cacheable(client: httpx.AsyncClient) -> None:
    address = f"{ASSETS_PATH}/react-18.2.0/react.production.min.js"
    first = await client.get(address)
    again = await client.get(address, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    licence = await client.get(f"{ASSETS_PATH}/react-18.2.0/LICENSE")
    assert licence.status_code == 200 and "MIT License" in licence.text
    assert licence.headers["content-type"].startswith("text/plain")


async def test_a_missing_file_is_not_cached(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{ASSETS_PATH}/graphiql-3.8.3/nope.js")
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"
    escaped = await client.get(f"{ASSETS_PATH}/../../app.py")
    assert escaped.status_code == 404


@pytest.mark.parametrize("update", [PRODUCTION, {"graphiql": False}], ids=["production", "off"])
async def test_nothing_of_graphiql_is_served_where_it_is_off(
    settings: Settings, database: Database, update: dict[str, object]
) -> None:
    app = create_app(settings.model_copy(update=update), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        page = await http.get("/graphql", headers=HTML)
        asset = await http.get(f"{ASSETS_PATH}/graphiql-3.8.3/graphiql.min.js")
    assert "graphiql" not in page.text.lower()
    assert asset.status_code == 404
    assert asset.headers["cache-control"] == "no-store"
