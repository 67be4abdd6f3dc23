"""CAREBOOK_WEBHOOK_SIGNATURE=healthie: a receiver written from Healthie's webhooks guide (its
JavaScript sample: a space-joined string of the request's parts, HMAC-SHA256 in hex) verifies
Carebook's deliveries. The check below is written from that guide's steps."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.webhooks.dispatch import run_pass
from tests.support.webhook_receiver import Request, receiving
from tests.support.world import World
from tests.webhooks.helpers import add_event, add_webhook


def _healthie_check(request: Request, secret: str) -> bool:
    """The guide's steps: the data string from the method, path, query, the digest header's
    value, the content type and length; its HMAC in hex against the Signature's value."""
    target = urlsplit(request.target)
    digest = request.headers["content-digest"].split("=", 1)[1]
    data = (
        f"{request.method.lower()} {target.path} {target.query} {digest} "
        f"application/json {len(request.body)}"
    )
    computed = hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(computed, request.headers["signature"].split("=", 1)[1])


async def test_a_receiver_written_for_healthie_verifies_the_delivery(
    database: Database, settings: Settings, world: World
) -> None:
    healthie = settings.model_copy(
        update={"webhook_allow_private_urls": True, "webhook_signature": "healthie"}
    )
    org = world.a.provider.organization_id
    async with receiving() as receiver:
        _, secret = await add_webhook(
            database, healthie, organization_id=org, url=receiver.url("/in?a=1")
        )
        await add_event(database, organization_id=org, resource_id=5)
        await run_pass(database, healthie)
    (request,) = receiver.requests
    expected = base64.b64encode(hashlib.sha256(request.body).digest()).decode()
    assert request.headers["content-digest"] == f"sha-256={expected}"
    assert request.headers["signature"].startswith("sig1=")
    assert request.headers["signature-input"].startswith('sig1=("@method" "@path" "@query"')
    assert _healthie_check(request, secret)
    assert not _healthie_check(request, "another secret")
    request.target = "/in?a=2"
    assert not _healthie_check(request, secret)  # the query is signed
    # Healthie's sample trusts the digest header: the body is bound only when the receiver also
    # compares that digest with the body (docs/webhooks.md tells it to, as checked above).
