"""A small GraphQL client for tests: sends documents with variables over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Api:
    """Calls /graphql, optionally with an API key or a bearer token."""

    client: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)

    def with_key(self, api_key: str) -> Api:
        """The same client authenticating with an API key, as Healthie's clients do."""
        return Api(self.client, {"Authorization": f"Basic {api_key}", "AuthorizationSource": "API"})

    def with_token(self, token: str) -> Api:
        """The same client authenticating with a session token."""
        return Api(self.client, {"Authorization": f"Bearer {token}"})

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole JSON response; fails the test on a non-200 status."""
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a response that must have no errors."""
        body = await self.post(query, variables)
        assert not body.get("errors"), body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def error_codes(self, query: str, variables: dict[str, Any] | None = None) -> list[str]:
        """The ``extensions.code`` of each error in the response."""
        body = await self.post(query, variables)
        return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
