"""User.notification_setting in a list is one batched query, whatever the number of users."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.db import statements_sent
from tests.support.groups import add_patients
from tests.support.notification_documents import update_setting
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database

LIST_WITH = """query { users(should_paginate: false) {
  id notification_setting { id send_form_request_emails } } }"""
LIST_WITHOUT = "query { users(should_paginate: false) { id } }"


async def test_settings_add_one_query_for_any_number_of_patients(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    staff = api.with_key(world.a.staff.api_key)
    ids = await add_patients(database, passwords, world.a, 6, tag="settings")
    for patient_id in ids[:3]:
        payload = await update_setting(staff, id=str(patient_id), send_form_request_emails=False)
        assert not payload["messages"]
    with statements_sent(database) as bare:
        await staff.data(LIST_WITHOUT)
    with statements_sent(database) as statements:
        users = (await staff.data(LIST_WITH))["users"]
    assert len(users) == 8
    off = {u["id"] for u in users if not u["notification_setting"]["send_form_request_emails"]}
    assert off == {str(i) for i in ids[:3]}
    assert len(statements) == len(bare) + 1
