"""signUp stamps the new patient's sign-in in its INSERT (issue 28): one statement fewer than
an UPDATE right after it, and the same values."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.auth_helpers import get_row
from tests.support.db import statements_sent
from tests.support.seed_documents import SIGN_UP
from tests.support.world import World

from carebook.db.engine import Database
from carebook.users.models import User


async def test_a_patient_sign_up_stamps_the_sign_in_without_an_update(
    api: Api, world: World, database: Database
) -> None:
    variables = {
        "first_name": "Ines",
        "last_name": "Okafor",
        "email": "ines.okafor@example.com",
        "password": "b@se3ball rocks",
        "role": "patient",
        "dietitian_id": str(world.a.provider.user_id),
    }
    with statements_sent(database) as sent:
        payload = (await api.data(SIGN_UP, variables))["signUp"]
    assert payload["messages"] is None, payload
    assert [s for s in sent if s.lstrip().upper().startswith("UPDATE USERS")] == []
    row = await get_row(database, User, payload["user"]["id"])
    assert row.last_sign_in_at is not None
    assert row.last_active_at == row.last_activity_at == row.last_sign_in_at
