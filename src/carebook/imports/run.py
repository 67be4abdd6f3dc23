"""Running an import: the file's rows in batches, each batch in its own transaction.

A batch commits whole or not at all: a failure while writing one (the database refusing, the
process stopped) rolls it back and stops the import, and the summary says which rows went in,
so a re-run (which updates the rows already imported) finishes the job. ``dry_run`` checks and
writes every batch exactly as a real run would, then rolls it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from itertools import islice

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.errors import FieldMessage
from carebook.imports.columns import FileProblem
from carebook.imports.lookups import Organization, organization
from carebook.imports.reader import Source, SourceRow
from carebook.imports.service import BatchResult, ImportOptions, import_batch
from carebook.organizations.models import Organization as OrganizationRow
from carebook.users.models import User

logger = logging.getLogger("carebook.imports")
BATCH_SIZE = 1000
Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
# One row's problem for the report: row number, field ("" for the row as a whole), message.
ReportLine = tuple[int, str, str]


@dataclass
class Summary:
    """What an import did."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    failed_rows: int = 0
    batches: int = 0
    # Rows up to this number are settled (written, or reported); 0: none.
    settled_through: int = 0
    stopped: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Plan:
    """An import to run."""

    source: Source
    organization_id: int
    provider_id: int | None
    options: ImportOptions
    dry_run: bool = False
    batch_size: int = BATCH_SIZE


def _batches(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    while batch := list(islice(rows, size)):
        yield batch


async def default_provider(session: AsyncSession, organization_id: int) -> int:
    """The organization's first provider: the primary provider of patients that name none."""
    if await session.get(OrganizationRow, organization_id) is None:
        raise FileProblem(f"organization {organization_id} not found")
    query = (
        select(User.id)
        .where(User.organization_id == organization_id, User.role == Role.PROVIDER.value)
        .order_by(User.id)
        .limit(1)
    )
    provider = (await session.execute(query)).scalar_one_or_none()
    if provider is None:
        raise FileProblem(f"organization {organization_id} has no provider to give patients to")
    return provider


async def run_import(
    plan: Plan,
    transaction: Transaction,
    passwords: Passwords,
    *,
    report: Callable[[Sequence[ReportLine]], None],
    progress: Callable[[int], None] = lambda _: None,
) -> Summary:
    """Import ``plan``'s file; problems go to ``report`` as they are found, in row order."""
    async with transaction() as session, session.begin():
        provider = plan.provider_id or await default_provider(session, plan.organization_id)
        org = await organization(session, plan.organization_id)
    if provider not in org.staff_ids:
        raise FileProblem(f"provider {provider} is not a provider of the organization")
    options = ImportOptions(
        provider, plan.options.send_welcome, plan.options.invitations, plan.options.on_batch
    )
    summary = Summary()
    for batch in _batches(plan.source.rows(), plan.batch_size):
        try:
            result = await _one_batch(plan, transaction, passwords, org, options, batch)
        except SQLAlchemyError as error:
            # The message names no value: patient data never goes into logs.
            logger.warning("import batch failed: %s", type(error).__name__)
            summary.stopped = _stop(batch, summary, report)
            break
        _count(summary, batch, result, report)
        progress(len(batch))
    return summary


async def _one_batch(
    plan: Plan,
    transaction: Transaction,
    passwords: Passwords,
    org: Organization,
    options: ImportOptions,
    batch: list[SourceRow],
) -> BatchResult:
    async with transaction() as session:
        writing = await session.begin()
        try:
            result = await import_batch(
                session, org=org, passwords=passwords, options=options, rows=batch
            )
        except BaseException:
            await writing.rollback()
            raise
        if plan.dry_run:
            await writing.rollback()
        else:
            await writing.commit()
        return result


def _count(
    summary: Summary,
    batch: list[SourceRow],
    result: BatchResult,
    report: Callable[[Sequence[ReportLine]], None],
) -> None:
    summary.rows += len(batch)
    summary.created += len(result.created)
    summary.updated += len(result.updated)
    summary.failed_rows += len({number for number, _ in result.errors})
    summary.batches += 1
    summary.settled_through = batch[-1].number
    summary.notes.extend(result.notes)
    report([_line(number, message) for number, message in result.errors])


def _line(number: int, message: FieldMessage) -> ReportLine:
    return (number, message.field or "", message.message)


def _stop(
    batch: list[SourceRow], summary: Summary, report: Callable[[Sequence[ReportLine]], None]
) -> str:
    first, last = batch[0].number, batch[-1].number
    report([(row.number, "", "not imported: its batch failed to write") for row in batch])
    summary.rows += len(batch)
    summary.failed_rows += len(batch)
    return (
        f"the batch of rows {first} to {last} failed to write and was rolled back; rows after "
        f"{last} were not read. Rows up to {summary.settled_through} went in: run the import "
        "again once the cause is fixed (rows already imported are updated, not duplicated)."
    )
