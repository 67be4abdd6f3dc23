"""Recording writes of patient records in the audit trail, for the services that make them.

Only patients' records are audited: providers and staff are not patient data. The events go in
the write's own transaction, under the origin its opener gave (carebook.audit.trail).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import Target
from carebook.audit.trail import record_write
from carebook.users.models import User


def patient_targets(rows: Iterable[User]) -> list[Target]:
    """The patients among ``rows``, as audit targets."""
    return [Target(row.id, row.organization_id) for row in rows if row.is_patient]


async def record_patients(session: AsyncSession, rows: Iterable[User], *, action: str) -> None:
    """Record ``action`` on each patient among ``rows`` (others are not patient records)."""
    await record_write(session, patient_targets(rows), action=action)


async def record_ids(
    session: AsyncSession, rows: Iterable[tuple[int, int]], *, action: str
) -> None:
    """Record ``action`` on patients known by (id, organization_id) from a query."""
    await record_write(session, [Target(i, org) for i, org in rows], action=action)


def status_action(active: object) -> str:
    """The action of a change that may set the active flag: archive, reactivate or update."""
    if active is False:
        return "archive"
    if active is True:
        return "reactivate"
    return "update"
