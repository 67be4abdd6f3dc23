"""The duplicate check of an import: each batch's written patients against the organization.

The import's :data:`carebook.imports.service.BatchHook`: it records the likely duplicate pairs
of the batch's patients (listed to staff by ``duplicateCandidates``), in the batch's transaction,
as a creation does, and returns one note per pair for the summary. A note names the batch's
patient by its row (a dry run's new patients have no lasting id) and the other by patient id,
with the reasons: no names, dates or emails (the summary is no place for patient data).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.duplicates import service
from carebook.duplicates.scan import Found
from carebook.imports.records import PatientRecord
from carebook.imports.service import plans_kept


async def duplicate_notes(
    session: AsyncSession, written: Sequence[tuple[int, PatientRecord]]
) -> list[str]:
    """Record the likely duplicates of the batch's patients; one note per pair."""
    if not written:
        return []
    rows = {user.id: number for number, user in written if user.id is not None}
    organization_id = written[0][1].organization_id
    found = await service.find_pairs(session, organization_id, list(rows))
    # Recorded with the session's own plans, as the batch's other writes (plans_kept).
    async with plans_kept(session):
        found = await service.record_pairs(session, organization_id, found)
    in_order = sorted(found, key=lambda pair: _first_row(pair, rows))
    return [
        f"likely duplicates: {_who(pair.user_id, rows)} and {_who(pair.other_user_id, rows)}: "
        f"{pair.match.summary}"
        for pair in in_order
    ]


def _first_row(pair: Found, rows: dict[int, int]) -> tuple[int, int]:
    numbers = [rows[user] for user in (pair.user_id, pair.other_user_id) if user in rows]
    return min(numbers), max(numbers)


def _who(user_id: int, rows: dict[int, int]) -> str:
    return f"row {rows[user_id]}" if user_id in rows else f"patient {user_id}"
