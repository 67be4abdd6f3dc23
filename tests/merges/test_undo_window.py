"""CAREBOOK_MERGE_UNDO_DAYS: past it, a merge can no longer be undone (0: at once)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from tests.support.api import Api
from tests.support.merges import full_record, merge, unmerge
from tests.support.world import World

from carebook.config import Settings
from carebook.db.engine import Database


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Merges that are final as soon as they are made: every merge is past the window."""
    return settings.model_copy(update={"merge_undo_days": 0})


async def test_past_the_window_a_merge_stays(api: Api, world: World, database: Database) -> None:
    staff = api.with_key(world.a.provider.api_key)
    merged, target = world.a.patient_id, world.a.other_patient_id
    assert (await merge(staff, ids=[str(merged)], target_user_id=str(target)))["messages"] is None
    after_merge = await full_record(database, [merged, target])
    refused = await unmerge(staff, merged)
    assert refused["messages"] == [
        {"field": "id", "message": "This merge is older than 0 days and can no longer be undone"}
    ]
    assert refused["users"] is None
    assert await full_record(database, [merged, target]) == after_merge


def test_a_window_past_any_date_is_refused_at_startup(settings: Settings) -> None:
    """Days beyond the calendar would overflow in the first unmerge (an internal error)."""
    with pytest.raises(ValidationError, match="merge_undo_days"):
        Settings.model_validate({**settings.model_dump(), "merge_undo_days": 10**9})
