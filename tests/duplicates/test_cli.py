"""``carebook duplicates reindex`` and ``scan``: keys for bulk-loaded patients, then their pairs."""

from __future__ import annotations

from bench.duplicates import generate
from sqlalchemy import func, select

from carebook.db.engine import Database
from carebook.duplicates.models import DuplicatePair, MatchKey
from tests.cli.run import carebook
from tests.duplicates.support import load
from tests.support.world import World


async def _count(database: Database, model: type[MatchKey] | type[DuplicatePair]) -> int:
    async with database.read_sessions() as session:
        return int((await session.scalar(select(func.count()).select_from(model))) or 0)


async def test_reindex_then_scan_lists_the_planted_pairs(
    database_url: str, database: Database, world: World
) -> None:
    org = world.a.provider.organization_id
    generated = generate(200, 3)
    await load(database, generated, org, world.a.provider.user_id)
    async with database.write_sessions() as session, session.begin():
        await session.execute(MatchKey.__table__.delete())  # as after the upgrade: no keys yet

    keyed = carebook(database_url, "duplicates", "reindex", "--organization-id", str(org))
    assert keyed.returncode == 0, keyed.stderr
    assert "keyed 2" in keyed.stdout  # the world's two patients and the 240 loaded
    assert await _count(database, MatchKey) > 0

    scanned = carebook(database_url, "duplicates", "scan", "--organization-id", str(org))
    assert scanned.returncode == 0, scanned.stderr
    pairs = await _count(database, DuplicatePair)
    assert pairs >= 18 and scanned.stdout.startswith(f"{pairs} candidate pairs")
