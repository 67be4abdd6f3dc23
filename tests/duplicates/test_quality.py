"""The matcher's precision and recall on generated patients with planted duplicates.

The whole path runs on the database: blocking keys, the SQL join of the blocks, scoring and
the recorded pairs. Figures (seed 26): docs/duplicates.md.
"""

from __future__ import annotations

from bench.duplicates import generate, in_memory, quality
from sqlalchemy import select

from carebook.db.engine import Database
from carebook.duplicates import service
from carebook.duplicates.models import DuplicatePair
from carebook.duplicates.scan import MAX_BLOCK
from tests.duplicates.support import load
from tests.support.world import World

SEED = 26
COUNT = 2000


async def test_planted_duplicates_are_found_with_high_precision_and_recall(
    database: Database, world: World
) -> None:
    generated = generate(COUNT, SEED)
    org = world.a.provider.organization_id
    ids = await load(database, generated, org, world.a.provider.user_id)
    async with database.write_sessions() as session, session.begin():
        count = await service.scan_organization(session, org)
    async with database.read_sessions() as session:
        rows = (
            await session.execute(
                select(DuplicatePair.user_id, DuplicatePair.other_user_id).where(
                    DuplicatePair.organization_id == org
                )
            )
        ).all()
    back = {user_id: number for number, user_id in ids.items()}
    found = [(back[a], back[b]) for a, b in rows if a in back and b in back]
    result = quality(generated, found)
    print(f"precision={result.precision:.4f} recall={result.recall:.4f} found={result.found}")
    assert count == len(rows)
    assert result.precision >= 0.95
    assert result.recall >= 0.95
    # The SQL blocking finds exactly what the same keys find in memory.
    assert result == in_memory(generated, MAX_BLOCK)
