"""Request bodies over CAREBOOK_MAX_BODY_BYTES get 413 and a coded error, unread."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from carebook.app import create_app
from carebook.config import Settings
from carebook.db.engine import Database
from carebook.web.body_limit import BodySizeLimit

LIMIT = 2048


@pytest.fixture
async def http(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app accepting at most LIMIT bytes of body."""
    app = create_app(settings.model_copy(update={"max_body_bytes": LIMIT}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as client:
        yield client


def padded(size: int) -> bytes:
    """A GraphQL request body of exactly ``size`` bytes."""
    body = json.dumps({"query": "{ currentUser { id } }", "variables": {"pad": ""}})
    return body.replace('"pad": ""', '"pad": "' + "x" * (size - len(body)) + '"').encode()


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": LIMIT}
    assert str(LIMIT) in error["message"]


async def test_a_body_at_the_limit_is_served(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", content=padded(LIMIT), headers=_json())
    assert response.status_code == 200
    assert response.json()["data"] == {"currentUser": None}


async def test_a_declared_length_over_the_limit_is_refused(http: httpx.AsyncClient) -> None:
    assert_refused(await http.post("/graphql", content=padded(LIMIT + 1), headers=_json()))


async def test_a_streamed_body_over_the_limit_is_refused_without_reading_it_all(
    http: httpx.AsyncClient,
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):  # 1 MB in all, far over the limit
            sent += 1
            yield b" " * 1024

    # No Content-Length: the body is counted as it streams.
    assert_refused(await http.post("/graphql", content=chunks(), headers=_json()))
    assert sent < 10


async def test_the_app_never_sees_an_oversized_body() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        while (await receive()).get("more_body"):
            pass

    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * 100, "more_body": False}

    headers = [(b"content-length", b"100")]
    scope: Scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers}
    await BodySizeLimit(app, max_bytes=99)(scope, receive, send)
    assert seen == []
    assert messages[0]["status"] == 413


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}
