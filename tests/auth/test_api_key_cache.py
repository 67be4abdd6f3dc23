"""The per-process API key cache (``api_key_cache_seconds``) and its revocation trade-off."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update
from tests.support.api import Api
from tests.support.world import World

from carebook import builders
from carebook.app import create_app
from carebook.auth.actor import Actor
from carebook.auth.models import ApiKey
from carebook.auth.passwords import Passwords
from carebook.config import Settings
from carebook.db.base import utcnow
from carebook.db.engine import Database
from carebook.graphql.context import Context
from carebook.organizations.service import set_timezone
from carebook.users.credentials import (
    actor_from_api_key,
    cached_api_key_actor,
    forget_api_key_actors_at_commit,
    revoke_credential,
)
from carebook.users.models import User


async def _actor(database: Database, key: str, seconds: float) -> Actor | None:
    async with database.read_sessions() as session:
        return await actor_from_api_key(session, key, seconds)


async def _remembered(database: Database, world: World) -> tuple[str, Actor]:
    """The provider's API key, looked up once with the cache on: its actor is remembered."""
    key = world.a.provider.api_key
    actor = await _actor(database, key, 60)
    assert actor is not None
    return key, actor


async def test_a_cached_key_outlives_a_revocation_by_another_process(
    database: Database, world: World
) -> None:
    key = world.a.provider.api_key
    assert await _actor(database, key, 60) is not None
    # Another process revokes the key: plain SQL, nothing this process's sessions notice.
    async with database.engine.begin() as connection:
        await connection.execute(update(ApiKey).values(revoked_at=utcnow()))
    assert await _actor(database, key, 60) is not None  # the documented trade-off
    assert await _actor(database, key, 0) is None  # without the cache: refused at once


async def test_a_revocation_in_this_process_is_seen_at_once(
    database: Database, world: World
) -> None:
    key, actor = await _remembered(database, world)
    async with database.write_sessions() as session, session.begin():
        await revoke_credential(session, actor=actor)
    assert await _actor(database, key, 60) is None


async def test_an_archive_in_this_process_is_seen_at_once(database: Database, world: World) -> None:
    key, actor = await _remembered(database, world)
    async with database.write_sessions() as session, session.begin():
        user = await session.get(User, actor.user_id)
        assert user is not None
        user.active = False
    assert await _actor(database, key, 60) is None


async def test_a_remembered_key_opens_no_session(
    settings: Settings, database: Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[object] = []
    real_read = Context.read

    async def counting_read(self: Context, work: Any) -> Any:
        reads.append(work)
        return await real_read(self, work)

    monkeypatch.setattr(Context, "read", counting_read)
    app = create_app(settings.model_copy(update={"api_key_cache_seconds": 60}), database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carebook.test") as http:
        caller = Api(http).with_key(world.a.provider.api_key)
        assert (await caller.data("{ __typename }"))["__typename"] == "Query"
        first = len(reads)  # the look-up (none if an earlier test left the key remembered)
        assert (await caller.data("{ __typename }"))["__typename"] == "Query"
    assert first <= 1 and len(reads) == first  # the second request: no session at all


async def test_a_new_organization_zone_in_this_process_is_seen_at_once(
    database: Database, world: World
) -> None:
    key, actor = await _remembered(database, world)
    assert actor.zone is UTC
    # The actor carries the zone date-times are written in (carebook/times.py).
    async with database.write_sessions() as session, session.begin():
        await set_timezone(session, actor.organization_id, "Europe/Oslo")
    renewed = await _actor(database, key, 60)
    assert renewed is not None and renewed.zone == ZoneInfo("Europe/Oslo")


async def test_writes_of_patients_keep_the_remembered_keys(
    database: Database, passwords: Passwords, world: World
) -> None:
    """A new patient, a changed one and a bulk write of patients are no remembered actor's:
    the cache stays (every write used to empty it, so under writes each request looked its key
    up again)."""
    key, actor = await _remembered(database, world)
    async with database.write_sessions() as session, session.begin():
        await builders.patient(
            session, passwords, actor=actor, first_name="Nova", last_name="Quill"
        )
        patient = await session.get(User, world.a.patient_id)
        assert patient is not None
        patient.first_name = "Renamed"
        forget_api_key_actors_at_commit(session, [world.a.other_patient_id])
    assert cached_api_key_actor(key) == actor


async def test_a_bulk_write_of_a_remembered_actors_user_empties_the_cache(
    database: Database, world: World
) -> None:
    key, actor = await _remembered(database, world)
    async with database.write_sessions() as session, session.begin():
        forget_api_key_actors_at_commit(session, [world.a.patient_id, actor.user_id])
    assert cached_api_key_actor(key) is None


async def test_an_actor_remembered_between_the_flush_and_the_commit_is_forgotten(
    database: Database, world: World
) -> None:
    """Whether to forget is decided at the commit: an actor read (with the old values) after
    the change was flushed, before it committed, does not outlive the change."""
    key = world.a.provider.api_key
    async with database.write_sessions() as session, session.begin():
        provider = await session.get(User, world.a.provider.user_id)
        assert provider is not None
        provider.timezone = "Europe/Oslo"
        await session.flush()
        assert await _actor(database, key, 60) is not None  # remembered with the old zone
        assert cached_api_key_actor(key) is not None
    assert cached_api_key_actor(key) is None
    renewed = await _actor(database, key, 60)
    assert renewed is not None and renewed.zone == ZoneInfo("Europe/Oslo")
