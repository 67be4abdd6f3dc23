"""Production mode: no "Did you mean" hint of any kind, and internal errors masked and logged
with a request id but without the request's values."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tests.limits.conftest import MakeApi
from tests.support.world import World

from carebook import search

# (document, variables, a schema name the hint would reveal)
MISTAKES: dict[str, tuple[str, dict[str, Any], str]] = {
    "field": ("{ currentUser { first_nam } }", {}, "first_name"),
    "argument": ("{ users(page_siz: 1) { id } }", {}, "page_size"),
    "type": ("query($o: UserOrderKey) { users(order_by: $o) { id } }", {}, "UserOrderKeys"),
    "enum literal": ("{ users(order_by: LAST_NAME_AS) { id } }", {}, "LAST_NAME_ASC"),
    "enum in variables": (
        "query($o: UserOrderKeys) { users(order_by: $o) { id } }",
        {"o": "LAST_NAME_AS"},
        "LAST_NAME_ASC",
    ),
    "input field literal": (
        'mutation { createClient(input: {first_nam: "A"}) { user { id } } }',
        {},
        "first_name",
    ),
    "input field in variables": (
        "mutation($i: createClientInput) { createClient(input: $i) { user { id } } }",
        {"i": {"first_nam": "A"}},
        "first_name",
    ),
}


async def messages(api_with: MakeApi, world: World, production: bool, case: str) -> list[str]:
    query, variables, _ = MISTAKES[case]
    # Production mode refuses the default secret key (tests/cli/test_secret_key.py).
    app = await api_with(
        production=production, secret_key="a-test-secret-that-is-not-default", payment_provider=None
    )
    api = app.with_key(world.a.provider.api_key)
    body = await api.post(query, variables)
    assert body["errors"], body
    assert all(e["extensions"]["code"] for e in body["errors"])
    return [e["message"] for e in body["errors"]]


@pytest.mark.parametrize("case", list(MISTAKES))
async def test_production_mode_leaks_no_hint(api_with: MakeApi, world: World, case: str) -> None:
    for message in await messages(api_with, world, True, case):
        assert "did you mean" not in message.lower(), message
        assert f"'{MISTAKES[case][2]}'" not in message, message


@pytest.mark.parametrize("case", list(MISTAKES))
async def test_development_mode_keeps_the_hints(api_with: MakeApi, world: World, case: str) -> None:
    # The same mistakes do produce hints outside production: the test above can fail.
    found = await messages(api_with, world, False, case)
    assert any(MISTAKES[case][2] in m and "Did you mean" in m for m in found), found


async def test_a_masked_internal_error_logs_its_request_id_and_no_values(
    api_with: MakeApi,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        # Like a database error quoting its parameters: patient data in the exception text.
        raise RuntimeError(f"failed with parameters {args!r} {kwargs!r}")

    monkeypatch.setattr(search, "page", broken)
    app = await api_with(
        production=True, secret_key="a-test-secret-that-is-not-default", payment_provider=None
    )
    api = app.with_key(world.a.provider.api_key)
    query = "query($k: String) { users(keywords: $k) { id first_name } }"
    with caplog.at_level(logging.DEBUG):
        body = await api.post(query, {"k": "Zebulon Quixote-Marchetti"})
    [error] = body["errors"]
    request_id = error["extensions"]["request_id"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["message"] == f"Internal server error (request id {request_id})"
    assert "parameters" not in str(body)
    assert request_id in caplog.text
    assert "RuntimeError" in caplog.text
    for secret in ("Zebulon", "Quixote", "Marchetti"):
        assert secret not in caplog.text


async def test_errors_of_one_request_share_its_request_id(
    api_with: MakeApi, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(search, "count", broken)
    api = (await api_with()).with_key(world.a.provider.api_key)
    body = await api.post("{ a: usersCount b: usersCount }")
    ids = {e["extensions"]["request_id"] for e in body["errors"]}
    assert len(body["errors"]) == 2 and len(ids) == 1
