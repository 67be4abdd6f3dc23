"""A check counts each of its names only as far as a match can tell: past COUNTED_TO, the
matcher's decision is the same, and a name shared by thousands costs no more than one shared by
COUNTED_TO."""

from __future__ import annotations

from sqlalchemy import insert

from carebook.db.engine import Database
from carebook.duplicates.models import NameKey
from carebook.duplicates.people import COUNTED_TO, RARE, common_names
from carebook.users.models import User
from tests.support.world import World


async def test_a_checks_names_are_counted_up_to_the_cap(database: Database, world: World) -> None:
    org = world.a.provider.organization_id
    common, middling, rare, absent = 7_001, 7_002, 7_003, 7_004
    shares = {common: COUNTED_TO + 99, middling: RARE + 5, rare: RARE}
    async with database.write_sessions() as session, session.begin():
        ids = [
            (await session.execute(insert(User).values(
                organization_id=org, role="patient", first_name="N", last_name=f"K{n}",
            ).returning(User.id))).scalar_one()
            for n in range(sum(shares.values()))
        ]  # fmt: skip
        owners = iter(ids)
        rows = [
            {"user_id": next(owners), "organization_id": org, "key": key}
            for key, count in shares.items()
            for _ in range(count)
        ]
        await session.execute(insert(NameKey), rows)
    async with database.read_sessions() as session:
        counts = await session.run_sync(
            lambda s: common_names(s.connection(), org, [common, middling, rare, absent])
        )
    assert counts == {common: COUNTED_TO, middling: RARE + 5}
