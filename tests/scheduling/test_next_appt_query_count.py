"""next_appt_date in a list is one batched query, whatever the number of patients."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.db import statements_sent
from tests.support.groups import add_patients
from tests.support.scheduling import CREATE_APPOINTMENT, create_type, future
from tests.support.world import World

from carebook.auth.passwords import Passwords
from carebook.db.engine import Database

LIST_WITH = "query { users(should_paginate: false) { id next_appt_date } }"
LIST_WITHOUT = "query { users(should_paginate: false) { id } }"


async def test_next_appt_date_adds_one_query_for_any_number_of_patients(
    api: Api, world: World, database: Database, passwords: Passwords
) -> None:
    provider = api.with_key(world.a.provider.api_key)
    type_id = await create_type(provider, length=30)
    ids = await add_patients(database, passwords, world.a, 6, tag="appt")
    for day, patient_id in enumerate(ids, start=1):
        variables = {
            "user_id": str(patient_id),
            "type": type_id,
            "datetime": future(day).isoformat(),
        }
        assert (await provider.data(CREATE_APPOINTMENT, variables))["createAppointment"][
            "messages"
        ] is None
    with statements_sent(database) as bare:
        await provider.data(LIST_WITHOUT)
    with statements_sent(database) as statements:
        users = (await provider.data(LIST_WITH))["users"]
    assert len(users) == 8
    assert sum(1 for u in users if u["next_appt_date"]) == 6
    assert len(statements) == len(bare) + 1
