"""A new password ends the user's other sessions; the session that changed it stays."""

from __future__ import annotations

from datetime import timedelta

from tests.support.api import Api
from tests.support.world import PATIENT_PASSWORD, World

from carebook.db.engine import Database
from carebook.users.credentials import issue_session_token
from carebook.users.models import User

ME = "{ currentUser { id } }"
CHANGE_OWN = """mutation($p: String, $c: String) {
  updateUser(input: {password: $p, current_password: $c}) { messages { field message } } }"""
SET_BY_PROVIDER = """mutation($id: ID, $p: String) {
  updateClient(input: {id: $id, password: $p}) { messages { field message } } }"""
NEW_PASSWORD = "correct horse battery staple"


async def _second_session(database: Database, user_id: int) -> str:
    async with database.write_sessions() as session, session.begin():
        user = await session.get_one(User, user_id)
        return await issue_session_token(session, user=user, ttl=timedelta(hours=1))


async def test_changing_own_password_ends_other_sessions_only(
    api: Api, world: World, database: Database
) -> None:
    other = await _second_session(database, world.a.patient_id)
    me = api.with_token(world.a.patient_token)
    data = await me.data(CHANGE_OWN, {"p": NEW_PASSWORD, "c": PATIENT_PASSWORD})
    assert data["updateUser"]["messages"] is None
    assert (await me.data(ME))["currentUser"]["id"] == str(world.a.patient_id)
    assert await api.with_token(other).error_codes(ME) == ["UNAUTHENTICATED"]


async def test_provider_setting_a_password_ends_the_patients_sessions(
    api: Api, world: World
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(SET_BY_PROVIDER, {"id": str(world.a.patient_id), "p": NEW_PASSWORD})
    assert data["updateClient"]["messages"] is None
    assert await api.with_token(world.a.patient_token).error_codes(ME) == ["UNAUTHENTICATED"]


async def test_a_rejected_password_keeps_the_sessions(api: Api, world: World) -> None:
    provider = api.with_key(world.a.provider.api_key)
    data = await provider.data(SET_BY_PROVIDER, {"id": str(world.a.patient_id), "p": "password"})
    assert data["updateClient"]["messages"][0]["field"] == "password"
    assert (await api.with_token(world.a.patient_token).data(ME))["currentUser"]
