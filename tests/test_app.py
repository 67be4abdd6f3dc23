"""The HTTP surface: GraphiQL, health check, error shaping."""

from __future__ import annotations

import httpx

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database
from tests.support.api import Api
from tests.support.world import World


async def test_graphiql_page_and_health_check(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get(
        "/graphql",
        headers={"Accept": "text/html", "Authorization": f"Basic {world.a.provider.api_key}",
                 "AuthorizationSource": "API"},
    )  # fmt: skip
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


async def test_malformed_documents_have_codes(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    assert await provider.error_codes("{ user(id: ") == ["GRAPHQL_PARSE_FAILED"]
    assert await provider.error_codes("{ nope }") == ["GRAPHQL_VALIDATION_FAILED"]


async def test_production_mode_hides_suggestions(
    settings: Settings, database: Database, world: World
) -> None:
    # Production refuses the test payment provider (carebook.startup): none is named here.
    production = {
        "production": True,
        "secret_key": "a-test-secret-that-is-not-default",
        "payment_provider": None,
    }
    app = create_app(settings.model_copy(update=production), database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        body = (await http.post(
            "/graphql", json={"query": "{ user(id: 1) { first_nam } }"},
            headers={"Authorization": f"Basic {world.a.provider.api_key}",
                     "AuthorizationSource": "API"},
        )).json()  # fmt: skip
        page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in body["errors"][0]["message"]
    assert page.status_code != 200 or "graphiql" not in page.text.lower()
