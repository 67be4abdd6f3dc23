"""Writing one batch of an import, in the caller's transaction: new patients and updates.

Each row goes through the field rules of every write path (``apply_changes``, the rules of
createClient and updateClient) onto a new patient, or onto the patient it names (same record
identifier, else same email: a re-run updates instead of duplicating). A row that breaks a rule
changes nothing and is reported; the others are written together, with Core statements on plain
records (imports/records.py, imports/writes.py): one INSERT of the new patients, one UPDATE per
set of changed columns, their search tokens and blocking keys as the flush hooks would write
them (the counters follow by trigger), one INSERT of their ``patient.created`` /
``patient.updated`` events, one of their audit events. Welcome emails only when asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts.changes import ChangeContext, apply_changes
from carebook.auth.passwords import Passwords
from carebook.db.base import utcnow
from carebook.duplicates.index import recheck_all
from carebook.errors import FieldMessage, Invalid
from carebook.events.emit import Change, emit_all
from carebook.imports.ids import reserve_user_ids
from carebook.imports.lookups import BatchLookups, Organization, batch_lookups
from carebook.imports.reader import SourceRow
from carebook.imports.records import PatientRecord
from carebook.imports.writes import write_batch
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_email
from carebook.users.activation import Invitations, ensure_signup_token
from carebook.users.credentials import forget_api_key_actors_at_commit
from carebook.users.events import PATIENT_CREATED, PATIENT_UPDATED, WIRE_NAMES
from carebook.users.inputs import NewClient
from carebook.users.models import User
from carebook.users.trail import record_ids

# Called with each batch's written patients (each with the number of the first row that wrote
# it) inside its transaction, before it commits: where the duplicate finder (issue 26) reports
# likely duplicates (imports/duplicates.py). Its notes go in the summary.
BatchHook = Callable[[AsyncSession, Sequence[tuple[int, PatientRecord]]], Awaitable[Sequence[str]]]

_NO_JIT = text("SET LOCAL jit = off")
_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
_NO_BITMAPS = text("SET LOCAL enable_bitmapscan = off")
_PLANS_KEPT = text("SET LOCAL plan_cache_mode = DEFAULT")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How rows are written: the provider of new patients, and whether they are welcomed."""

    provider_id: int
    send_welcome: bool = False
    invitations: Invitations | None = None
    on_batch: BatchHook | None = None


@dataclass
class BatchResult:
    """What became of a batch's rows."""

    created: list[int] = field(default_factory=list)  # row numbers
    updated: list[int] = field(default_factory=list)
    errors: list[tuple[int, FieldMessage]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Written:
    new: list[PatientRecord] = field(default_factory=list)
    matched: list[PatientRecord] = field(default_factory=list)
    rows: dict[int, int] = field(default_factory=dict)  # id() of the records above: first row
    # id() of a matched record: its values as read, before this batch's rows.
    loaded: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(
        self, user: PatientRecord, number: int, *, loaded: dict[str, Any] | None = None
    ) -> None:
        if id(user) not in self.rows:
            self.rows[id(user)] = number
            if loaded is None:
                self.new.append(user)
            else:
                self.matched.append(user)
                self.loaded[id(user)] = loaded

    def numbered(self) -> list[tuple[int, PatientRecord]]:
        return [(self.rows[id(user)], user) for user in self.new + self.matched]


async def plan_batch(session: AsyncSession) -> None:
    """How PostgreSQL plans the statements of the batch's transaction (nothing on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    # For this transaction only. The batch's statements are short, but their estimates
    # cross jit_above_cost (the duplicate check's join of 500 patients' keys: 1.1 s of JIT
    # compiling for a 0.25 s query). And each is planned for its own values: from the sixth
    # run of a prepared statement PostgreSQL may keep a generic plan, and the duplicate
    # check's took 3 s instead of 0.2 s (one batch after another reuses the statement). The
    # writes lift that one (plans_kept): their foreign keys' checks would be planned per row.
    # No bitmap scans: without statistics (a new database, filled faster than autovacuum
    # analyzes it) the duplicate check counted each key's block, to its cap of 51, with a
    # bitmap scan, which reads the whole block before the LIMIT applies (37,000 entries for
    # a birthday every patient shares: 13 s a batch at 37,000 patients); an index scan stops
    # at the 51st. The batch's other statements are look-ups by key, as well served.
    await session.execute(_NO_JIT)
    await session.execute(_CUSTOM_PLANS)
    await session.execute(_NO_BITMAPS)


@asynccontextmanager
async def plans_kept(session: AsyncSession) -> AsyncIterator[None]:
    """The batch's writes with the session's own plan_cache_mode; custom plans again after
    (inside a transaction :func:`plan_batch` planned: it sets them back, not what was before).

    Each row an INSERT writes is checked against the rows its foreign keys name by a query the
    server prepares once per statement and reruns per row (an RI trigger's); under
    ``force_custom_plan`` it is planned again for every row: about three times the cost of a
    blocking keys INSERT of 14,000 rows (0.44-0.45 s against 0.12-0.16 s). Inside go the
    writes and their look-ups by key (the pairs recorded, by id); the reads that choose among
    plans (the batch's look-ups, the duplicate check's, a re-check's) stay outside.
    Not restored after an error: the transaction is rolled back, the setting with it."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        await session.execute(_PLANS_KEPT)
    yield
    if postgresql:
        await session.execute(_CUSTOM_PLANS)


async def import_batch(
    session: AsyncSession,
    *,
    org: Organization,
    passwords: Passwords,
    options: ImportOptions,
    rows: Sequence[SourceRow],
) -> BatchResult:
    """Check every row and write the good ones (not committed)."""
    await plan_batch(session)
    lookups = await batch_lookups(session, org, rows)
    ctx = ChangeContext(session, org.id, passwords, lookups=lookups)
    result, written = BatchResult(), _Written()
    for row in rows:
        await _apply_row(ctx, lookups, options, row, result, written)
    changed = [(user, user.changed(written.loaded[id(user)])) for user in written.matched]
    changed = [(user, names) for user, names in changed if names]
    ids = await reserve_user_ids(session, len(written.new))
    for user, new_id in zip(written.new, ids, strict=True):
        user.id = new_id
    async with plans_kept(session):
        pending = await _write(session, org.id, written, changed)
        if options.send_welcome:
            await _welcome(session, [_id(user) for user in written.new], options.invitations)
    # A corrected patient's pairs re-checked: a duplicate check, with the batch's custom plans.
    await session.run_sync(lambda sync: recheck_all(sync.connection(), pending))
    if options.on_batch is not None:
        result.notes.extend(await options.on_batch(session, written.numbered()))
    return result


async def _write(
    session: AsyncSession,
    organization_id: int,
    written: _Written,
    changed: list[tuple[PatientRecord, list[str]]],
) -> dict[int, list[int]]:
    """The batch's rows, their index entries, events and audit events; returns the patients
    whose pairs must be re-checked (imports/writes.py)."""
    now = utcnow()
    pending = await session.run_sync(
        lambda sync: write_batch(sync.connection(), written.new, changed, now)
    )
    # As the flush of a changed user would: the API key actors' cache empties at the commit if
    # one of them is a remembered actor's (new patients are none).
    forget_api_key_actors_at_commit(session, (u.id for u, _ in changed if u.id is not None))
    events = [Change(organization_id, PATIENT_CREATED, _id(user)) for user in written.new]
    for user, names in changed:
        wire = [name for key, name in WIRE_NAMES.items() if key in names]
        if wire:
            events.append(Change(organization_id, PATIENT_UPDATED, _id(user), wire))
    await emit_all(session, events)
    pairs = [(_id(user), organization_id) for user in written.new]
    await record_ids(session, pairs, action="create")
    pairs = [(_id(user), organization_id) for user in written.matched]
    await record_ids(session, pairs, action="update")
    return pending


def _id(user: PatientRecord) -> int:
    assert user.id is not None  # every written record has one by now
    return user.id


async def _apply_row(
    ctx: ChangeContext,
    lookups: BatchLookups,
    options: ImportOptions,
    row: SourceRow,
    result: BatchResult,
    written: _Written,
) -> None:
    if row.problems:
        result.errors.extend((row.number, problem) for problem in row.problems)
        return
    target = lookups.match(row)
    refusal = _refusal(row, target) if target is not None else None
    if refusal is not None:
        result.errors.append((row.number, refusal))
        return
    user = target or PatientRecord.new(ctx.organization_id)
    fields = NewClient(**row.fields)  # type: ignore[arg-type]
    required: tuple[str, ...] = ()
    if target is None:
        required = ("first_name", "last_name", *(() if fields.skipped_email else ("email",)))
        if fields.dietitian_id is None:
            fields = NewClient(**{**row.fields, "dietitian_id": options.provider_id})  # type: ignore[arg-type]
    before = user.values() if target is not None else None
    lookups.current = user
    try:
        await apply_changes(ctx, user, fields, required)
    except Invalid as error:
        result.errors.extend((row.number, message) for message in error.messages)
        if before is not None:
            user.restore(before)  # the rows that passed before it still stand
        return
    if before is None:
        lookups.claim(user)
    else:
        lookups.claim(
            user, old_email_key=before["email_key"], old_identifier=before["record_identifier"]
        )
    written.add(user, row.number, loaded=before)
    (result.created if target is None else result.updated).append(row.number)


def _refusal(row: SourceRow, target: PatientRecord) -> FieldMessage | None:
    """Why the row must not update ``target``, the record it names; None: it may.

    A merged or archived record is not brought back by a file: the row is reported (a row of a
    merged patient is not followed to the patient they were merged into either: which of the
    two records the file's values belong to is the practice's call). A row matched by email
    whose record identifier differs from the patient's is another person sharing the email (a
    family's parent address): createClient would refuse that email, so the row is refused too.
    """
    if target.merged_into_id is not None:
        return FieldMessage(
            None,
            f"patient {target.id} was merged into patient {target.merged_into_id}: "
            f"import this row as patient {target.merged_into_id}'s (their record_identifier "
            "or email), or undo the merge",
        )
    if not target.active:
        return FieldMessage(
            None, f"patient {target.id} is archived: unarchive them first (updateClient)"
        )
    identifier = str(row.fields.get("record_identifier", "")).strip()
    if identifier and target.record_identifier and identifier != target.record_identifier:
        return FieldMessage(
            "email",
            "Email has already been taken (by a patient with another record_identifier)",
        )
    return None


async def _welcome(
    session: AsyncSession, user_ids: Sequence[int], invitations: Invitations | None
) -> None:
    """The welcome email (and its set-password link) of each new patient with an email."""
    if not user_ids:
        return
    users = (await session.execute(select(User).where(User.id.in_(user_ids)))).scalars()
    for user in sorted(users, key=lambda user: user.id):
        if not user.email:
            continue
        if invitations is not None and user.password_hash is None:
            await ensure_signup_token(
                session,
                user=user,
                secret_key=invitations.secret_key,
                ttl=invitations.ttl,
                new=True,  # inserted by this batch: no token yet
            )
        await queue_email(
            session,
            organization_id=user.organization_id,
            recipient_user_id=user.id,
            kind=EmailKind.WELCOME,
        )
