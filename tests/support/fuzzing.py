"""Schema-driven fuzzing: documents generated from the served schema, sent over HTTP, judged.

Shared by tests/security/test_fuzz.py (a bounded run in CI) and scripts/fuzz.py (a long run).
hypothesis-graphql builds documents that pass validation (and, in a smaller share, documents
with one schema violation) with random literal arguments. Ids are drawn mostly from the small
numbers the test world's rows have, so resolvers find real records and run past their look-ups;
the rest are arbitrary text and integers far beyond any column's range. Strings mix arbitrary
text with the shapes resolvers parse (dates, emails, time zones, id lists).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries
from sqlalchemy import update

from carebook.app import create_app
from carebook.auth.models import ApiKey
from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.engine import Database, create_database
from carebook.users.credentials import issue_session_token
from carebook.users.models import User
from tests.support.schema_walk import SCHEMA
from tests.support.world import World, build_world

INTERNAL = "INTERNAL_SERVER_ERROR"
UNAUTHENTICATED = "UNAUTHENTICATED"

_ID_TEXT = st.one_of(
    st.integers(min_value=1, max_value=14).map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=24),
)
# Strings that parsers inside resolvers take apart: dates (valid, impossible, out of range),
# times, emails, phone numbers, time zones, comma-separated id lists, and overlong text.
_SHAPED_TEXT = st.one_of(
    st.dates().map(str),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda moment: moment.isoformat()),
    st.sampled_from(["2024-02-30", "0000-01-01", "9999-12-31T23:59:60", "24:00", "1/2/3"]),
    st.sampled_from(["UTC", "America/New_York", "Mars/Olympus", "", " ", "null", "%", "_"]),
    st.emails(),
    st.from_regex(r"\+?[0-9 ()-]{0,20}", fullmatch=True),
    st.lists(st.integers(min_value=-3, max_value=16).map(str), max_size=4).map(",".join),
    st.text(min_size=300, max_size=3000),
    # Lone UTF-16 surrogates, which no UTF-8 encoder takes (hypothesis' text never has them).
    st.sampled_from(["\ud800", "a\udfffb", "\udc00\ud83d"]),
)
_STRING = st.one_of(st.text(max_size=40), _ID_TEXT, _SHAPED_TEXT)
# Cursors are base64 of "pos:<n>"; forged ones carry any text or number there.
_CURSOR = st.one_of(
    _ID_TEXT,
    st.one_of(st.integers(), st.text(max_size=12)).map(
        lambda value: base64.urlsafe_b64encode(f"pos:{value}".encode()).decode()
    ),
)
# Built-in ID and String, and the custom Cursor scalar.
_SCALARS = {
    "ID": _ID_TEXT.map(nodes.String),
    "Cursor": _CURSOR.map(nodes.String),
    "String": _STRING.map(nodes.String),
}


def documents(*, negative_share: bool = True) -> st.SearchStrategy[str]:
    """Queries and mutations over every root field of the served schema."""
    schema = SCHEMA._schema
    valid = [
        queries(schema, custom_scalars=_SCALARS),
        mutations(schema, custom_scalars=_SCALARS),
    ]
    if not negative_share:
        return st.one_of(*valid)
    invalid = [
        queries(schema, custom_scalars=_SCALARS, mode=Mode.NEGATIVE),
        mutations(schema, custom_scalars=_SCALARS, mode=Mode.NEGATIVE),
    ]
    # Mostly valid documents: only those reach the resolvers.
    return st.one_of(*valid, *valid, *valid, *invalid)


def callers(world: World) -> dict[str, dict[str, str]]:
    """Headers of each kind of caller: organization A's provider, staff, patient, and nobody."""
    return {
        "provider": _api_key(world.a.provider.api_key),
        "staff": _api_key(world.a.staff.api_key),
        "patient": {"Authorization": f"Bearer {world.a.patient_token}"},
        "anonymous": {},
    }


def _api_key(key: str) -> dict[str, str]:
    return {"Authorization": f"Basic {key}", "AuthorizationSource": "API"}


@dataclass
class Tally:
    """What a fuzzing run sent and what came back."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    with_data: int = 0

    def summary(self) -> str:
        """One line for the run's output."""
        codes = ", ".join(f"{code}={n}" for code, n in self.codes.most_common())
        statuses = ", ".join(f"{status}={n}" for status, n in sorted(self.statuses.items()))
        return (
            f"sent={self.sent} answered_with_data={self.with_data} "
            f"statuses[{statuses}] error_codes[{codes or 'none'}]"
        )


async def send_and_judge(
    client: httpx.AsyncClient, headers: dict[str, str], document: str, tally: Tally
) -> list[str]:
    """Send one document; fail on a 5xx, an internal error, or an error without a code.

    Returns the error codes of the answer.
    """
    # json.dumps escapes a lone surrogate as \uXXXX, as a client's JSON would carry it.
    sent = json.dumps({"query": document}).encode()
    headers = {"content-type": "application/json", **headers}
    response = await client.post("/graphql", content=sent, headers=headers)
    tally.sent += 1
    tally.statuses[response.status_code] += 1
    assert response.status_code < 500, f"{response.status_code} for\n{document}"
    body: dict[str, Any] = response.json()
    if body.get("data"):
        tally.with_data += 1
    codes = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code, f"error without extensions.code: {json.dumps(error)}\n{document}"
        tally.codes[code] += 1
        assert code != INTERNAL, f"internal error: {json.dumps(error)}\n{document}"
        codes.append(code)
    return codes


@dataclass
class Harness:
    """The real ASGI app on a migrated database with the test world in it, and a client."""

    database: Database
    client: httpx.AsyncClient
    callers: dict[str, dict[str, str]]
    user_ids: dict[str, int]

    @classmethod
    async def start(cls, settings: Settings) -> Harness:
        """Build the app and the world (call inside the event loop that will send requests)."""
        database = create_database(settings)
        world = await build_world(database, Passwords(settings))
        transport = httpx.ASGITransport(app=create_app(settings, database))
        client = httpx.AsyncClient(transport=transport, base_url="http://carebook.test")
        user_ids = {
            "provider": world.a.provider.user_id,
            "staff": world.a.staff.user_id,
            "patient": world.a.patient_id,
        }
        return cls(database, client, callers(world), user_ids)

    async def restore(self, caller: str) -> None:
        """Sign a caller back in after a generated document archived them or revoked their key.

        Both are legitimate outcomes (a provider may archive the patient, anyone may revoke
        their own credential); restoring keeps every caller able to reach the resolvers for the
        rest of the run.
        """
        async with self.database.write_sessions() as session, session.begin():
            user = await session.get_one(User, self.user_ids[caller])
            user.active = True
            await session.execute(
                update(ApiKey).where(ApiKey.user_id == user.id).values(revoked_at=None)
            )
            if caller == "patient":
                token = await issue_session_token(session, user=user, ttl=timedelta(hours=1))
                self.callers["patient"] = {"Authorization": f"Bearer {token}"}

    async def close(self) -> None:
        """Let go of the client and the engine (the ``database`` fixture empties the tables)."""
        await self.client.aclose()
        # Work the app left running after its answers (the audit writer's last batch) finishes
        # before the engine goes: a connection closed under it fails in its driver's thread.
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        await asyncio.gather(*others, return_exceptions=True)
        await self.database.dispose()


def fuzz(
    runner: asyncio.Runner, harness: Harness, examples: int, tally: Tally, run_seed: int | None
) -> None:
    """Send ``examples`` generated documents through ``harness``; the first failure raises.

    ``run_seed`` makes a run reproducible (a long run uses a new one per batch); None lets
    Hypothesis choose and replay earlier failures from its example database first.
    """

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(document=documents(), caller=st.sampled_from(sorted(harness.callers)))
    def one(document: str, caller: str) -> None:
        codes = runner.run(send_and_judge(harness.client, harness.callers[caller], document, tally))
        if caller != "anonymous" and UNAUTHENTICATED in codes:
            runner.run(harness.restore(caller))

    (one if run_seed is None else seed(run_seed)(one))()
