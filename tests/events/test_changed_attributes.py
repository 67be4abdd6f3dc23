"""Which fields a write changed (events/changes.py), read from what the session holds: the
``patient.updated`` event's field list and the flush hooks' decisions (search tokens, blocking
keys) rest on it."""

from __future__ import annotations

from sqlalchemy import select
from tests.support.world import World

from carebook.db.engine import Database
from carebook.events.changes import any_changed, changed_attributes
from carebook.users.events import WIRE_NAMES
from carebook.users.models import User


async def test_only_values_that_differ_from_the_loaded_ones_count(
    database: Database, world: World
) -> None:
    async with database.write_sessions() as session, session.begin():
        query = select(User).where(User.id == world.a.patient_id)  # profile group not loaded
        user = (await session.execute(query)).scalar_one()
        assert changed_attributes(user, WIRE_NAMES) == []
        assert not any_changed(user, ("first_name", "last_name"))

        user.first_name = user.first_name  # set to what it holds: no change
        user.last_name = f"{user.last_name}x"
        user.timezone = "Europe/Lisbon" if user.timezone != "Europe/Lisbon" else "Asia/Tokyo"
        user.quick_notes = "never loaded: counts as changed once set"
        assert changed_attributes(user, WIRE_NAMES) == ["last_name", "timezone", "quick_notes"]
        assert any_changed(user, ("first_name", "last_name"))
        assert not any_changed(user, ("first_name", "dob", "email_key"))

        user.last_name = user.last_name[:-1]  # back to the loaded value
        assert changed_attributes(user, WIRE_NAMES) == ["timezone", "quick_notes"]
        assert not any_changed(user, ("first_name", "last_name"))
        await session.rollback()
