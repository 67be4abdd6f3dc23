"""CAREBOOK_CORS_ORIGINS: browser pages of the listed origins may call the API; none by default."""

from __future__ import annotations

import httpx
import pytest

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database

ORIGIN = "https://app.example.com"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, authorizationsource, content-type, "
    "idempotency-key, x-request-id",
}


def _client(settings: Settings, database: Database, **overrides: str) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update=overrides), database)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_listed_origin_may_call_with_a_healthie_clients_headers(
    settings: Settings, database: Database
) -> None:
    cors = Settings(cors_origins=f" {ORIGIN}/ , http://localhost:3000").cors_origins
    async with _client(settings, database, cors_origins=cors) as http:
        preflight = await http.options("/graphql", headers=PREFLIGHT)
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        allowed = preflight.headers["access-control-allow-headers"].lower()
        for header in PREFLIGHT["Access-Control-Request-Headers"].split(", "):
            assert header in allowed
        answer = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ORIGIN}
        )
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()
        # Another origin gets no permission.
        other = await http.options("/graphql", headers={**PREFLIGHT, "Origin": "https://evil.test"})
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers


async def test_no_origin_is_allowed_by_default(settings: Settings, database: Database) -> None:
    assert Settings().cors_origin_list == []
    async with _client(settings, database) as http:
        preflight = await http.options("/graphql", headers=PREFLIGHT)
        assert "access-control-allow-origin" not in preflight.headers
        answer = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ORIGIN}
        )
        assert "access-control-allow-origin" not in answer.headers


def test_a_malformed_origin_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="not an origin"):
        Settings(cors_origins="app.example.com")
