"""The receiver example of docs/webhooks.md verifies a real delivery, and refuses a forged one."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.webhooks.dispatch import run_pass
from tests.support.webhook_receiver import receiving
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def _documented_verify() -> Callable[..., bool]:
    section = DOC.read_text().split("## Verifying a signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)  # noqa: S102 (our own docs)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


async def test_the_documented_receiver_verifies_a_delivery(
    database: Database, settings: Settings, world: World
) -> None:
    hook_settings = settings.model_copy(update={"webhook_allow_private_urls": True})
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        _, secret = await add_webhook(
            database, hook_settings, organization_id=org, url=receiver.url("/in?k=v")
        )
        await add_event(database, organization_id=org)
        await run_pass(database, hook_settings)
    (request,) = receiver.requests
    target = urlsplit(request.target)
    verify = _documented_verify()

    def check(**changes: Any) -> bool:
        arguments: dict[str, Any] = {
            "secret": secret,
            "method": request.method,
            "path": target.path,
            "query": target.query,
            "headers": request.headers,
            "body": request.body,
        }
        return verify(**(arguments | changes))

    assert check()
    assert not check(body=request.body.replace(b"patient", b"pirate"))
    assert not check(secret="not the secret")
    assert not check(path="/other")


@pytest.mark.parametrize("header", ["content-digest", "signature", "signature-input"])
def test_a_request_without_the_headers_is_refused(header: str) -> None:
    verify = _documented_verify()
    headers = {"content-digest": "x", "signature": "y", "signature-input": "z"}
    del headers[header]
    assert not verify("s", "POST", "/", "", headers, b"{}")
