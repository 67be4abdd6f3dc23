"""Writes of form requests: createRequestedFormCompletion (one-off or recurring),
deleteRequestedFormCompletion, updateRecurringForm and deleteRecurringForm."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import Target
from carebook.audit.trail import record_write
from carebook.auth.actor import Actor, require_staff
from carebook.db import lengths
from carebook.db.base import utcnow
from carebook.errors import Invalid, NotFound
from carebook.events.emit import Change, emit, emit_all
from carebook.forms import queries, recurrence
from carebook.forms.inputs import FormRequest, Recurrence, RecurringFormChanges
from carebook.forms.models import (
    RecurringForm,
    RecurringFormRecipient,
    RecurringFormRun,
    RequestedFormCompletion,
)
from carebook.times import zone_of
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.lookup import all_found

ITEM_TYPES = ("CustomModuleForm", "Questionnaire")
REQUESTED_FORM_COMPLETION_CREATED = "requested_form_completion.created"
REQUESTED_FORM_COMPLETION_DELETED = "requested_form_completion.deleted"


async def _recipients(
    session: AsyncSession, actor: Actor, first: str | int | None, listed_text: str | None
) -> tuple[list[int], list[int]]:
    """The patients and the groups named (Healthie's "1,2,group-3"), each checked visible."""
    head = v.parse_id(first, "recipient_id")
    listed = v.parse_id_list(listed_text, "recipient_ids", kinds=("user", "group"))
    users = list(dict.fromkeys(([] if head is None else [head]) + listed["user"]))
    patients = await user_queries.visible_patients_by_ids(session, actor, users)
    all_found(users, patients, field="recipient_id", label="Users")
    groups = listed["group"]
    if groups:
        visible = await queries.visible_group_ids(session, actor, groups)
        all_found(groups, visible, field="recipient_ids", label="User groups")
    return users, groups


async def patients_of(
    session: AsyncSession, actor: Actor, users: list[int], groups: list[int]
) -> list[int]:
    """Patients named, then the active patients of the groups named, once each."""
    ids = list(users)
    if groups:  # a group names its active patients, as Healthie sends the form to each
        ids += await user_queries.visible_patient_ids_in_groups(session, actor, groups)
    return list(dict.fromkeys(ids))


async def visible_active_patients(session: AsyncSession, actor: Actor, ids: list[int]) -> list[int]:
    """Those of ``ids`` that are active patients ``actor`` sees, in the order given."""
    found = await user_queries.visible_patients_by_ids(session, actor, ids)
    return [uid for uid in ids if uid in found and found[uid].active]


def _form_id(fields: FormRequest) -> tuple[str, str]:
    raw_form = fields.custom_module_form_id or fields.form
    form_id = v.clean_text("custom_module_form_id", raw_form, limit=lengths.FORM_ID)
    if not form_id:
        raise Invalid.field("custom_module_form_id", "Form can't be blank")
    item_type = fields.item_type or ITEM_TYPES[0]
    if item_type not in ITEM_TYPES:
        raise Invalid.field("item_type", f"Item type must be one of {', '.join(ITEM_TYPES)}")
    return form_id, item_type


def rule_of(fields: Recurrence) -> recurrence.Rule:
    """The recurrence the inputs describe (Invalid names the field at fault)."""
    return recurrence.rule_of(
        frequency=fields.frequency,
        weekday=fields.weekday,
        monthday=fields.monthday,
        hour=fields.hour,
        minute=fields.minute,
        period=fields.period,
        ends_on=fields.ends_on,
        recurrence_ends=fields.recurrence_ends,
    )


def stored_rule(form: RecurringForm) -> recurrence.Rule:
    """The rule of a stored recurring form (checked when it was written)."""
    return rule_of(
        Recurrence(
            frequency=form.frequency,
            weekday=form.weekday,
            monthday=form.monthday,
            hour=form.hour,
            minute=form.minute,
            period=form.period,
            ends_on=None if form.ends_on is None else form.ends_on.isoformat(),
            recurrence_ends=form.ends_on is not None,
        )
    )


def next_occurrence(form: RecurringForm, after: datetime) -> datetime | None:
    """The form's next occurrence after ``after`` (None once past ``ends_on``)."""
    return recurrence.next_after(stored_rule(form), after, zone_of(form.timezone))


async def add_requests(
    session: AsyncSession,
    *,
    organization_id: int,
    sender_id: int | None,
    patient_ids: list[int],
    form_id: str,
    item_type: str,
    metadata: str | None,
    recurring_form_id: int | None = None,
) -> list[RequestedFormCompletion]:
    """One request per patient, with its created event and the audit of each patient's record."""
    rows = [
        RequestedFormCompletion(
            organization_id=organization_id,
            recipient_id=pid,
            sender_id=sender_id,
            custom_module_form_id=form_id,
            item_type=item_type,
            request_metadata=metadata,
            recurring_form_id=recurring_form_id,
        )
        for pid in patient_ids
    ]
    session.add_all(rows)
    await session.flush()
    # One request, and one event, per patient asked (a whole group at once: one INSERT).
    await emit_all(
        session,
        [Change(row.organization_id, REQUESTED_FORM_COMPLETION_CREATED, row.id) for row in rows],
    )
    # A form requested of a patient is part of their record.
    targets = [Target(row.recipient_id, row.organization_id) for row in rows]
    await record_write(session, targets, action="update")
    return rows


def _recipient_rows(
    form_id: int, users: list[int], groups: list[int]
) -> list[RecurringFormRecipient]:
    return [RecurringFormRecipient(recurring_form_id=form_id, user_id=u) for u in users] + [
        RecurringFormRecipient(recurring_form_id=form_id, user_group_id=g) for g in groups
    ]


def _store_rule(form: RecurringForm, rule: recurrence.Rule) -> None:
    """The checked rule, written back in one spelling ('Monday', '1st', 24-hour clock), so
    stored values always fit their columns and read back as the same rule."""
    form.frequency = rule.frequency
    form.weekday = recurrence.WEEKDAYS[rule.weekday] if rule.weekday is not None else None
    form.monthday = recurrence.interval_text(rule) if rule.monthday is not None else None
    form.hour, form.minute, form.period = str(rule.at.hour), str(rule.at.minute), None
    form.ends_on = rule.ends_on


async def _start_recurrence(
    session: AsyncSession,
    actor: Actor,
    fields: FormRequest,
    form: tuple[str, str],
    recipients: tuple[list[int], list[int]],
    metadata: str | None,
) -> RecurringForm:
    rule = rule_of(fields)
    zone_name = str(getattr(actor.zone, "key", "UTC"))
    row = RecurringForm(
        organization_id=actor.organization_id,
        user_id=actor.user_id,
        form_id=form[0],
        item_type=form[1],
        timezone=zone_name,
        is_active=True,
        skip_notification_email=bool(fields.skip_notification_email),
        request_metadata=metadata,
        next_run_at=recurrence.next_after(rule, utcnow(), zone_of(zone_name)),
    )
    _store_rule(row, rule)
    session.add(row)
    await session.flush()
    session.add_all(_recipient_rows(row.id, *recipients))
    return row


async def create_requests(
    session: AsyncSession, *, actor: Actor, fields: FormRequest
) -> list[RequestedFormCompletion]:
    """Ask one or more patients of the actor's organization to fill in a form; with
    ``is_recurring``, ask them again on each occurrence of the recurrence (the scheduler)."""
    require_staff(actor)
    form = _form_id(fields)
    metadata = v.clean_metadata(fields.metadata)
    recipients = await _recipients(session, actor, fields.recipient_id, fields.recipient_ids)
    ids = await patients_of(session, actor, *recipients)
    if not ids and not recipients[1]:
        raise Invalid.field("recipient_id", "Recipient can't be blank")
    recurring = None
    if fields.is_recurring:
        recurring = await _start_recurrence(session, actor, fields, form, recipients, metadata)
    # The first request now; a recurring one is then asked again at each occurrence.
    return await add_requests(
        session,
        organization_id=actor.organization_id,
        sender_id=actor.user_id,
        patient_ids=ids,
        form_id=form[0],
        item_type=form[1],
        metadata=metadata,
        recurring_form_id=None if recurring is None else recurring.id,
    )


async def delete_request(
    session: AsyncSession, *, actor: Actor, raw_id: object, recurring_form_id: object
) -> RequestedFormCompletion:
    """Withdraw a form request; with ``recurringFormId``, also end that recurrence."""
    require_staff(actor)
    row = await queries.get_request(session, actor, raw_id)
    if row is None:
        raise NotFound.field("id", "Requested form completion not found")
    if recurring_form_id not in (None, ""):
        await delete_recurring(session, actor=actor, raw_id=recurring_form_id)
    await session.delete(row)
    await session.flush()
    emit(
        session,
        organization_id=row.organization_id,
        event_type=REQUESTED_FORM_COMPLETION_DELETED,
        resource_id=row.id,
    )
    await record_write(session, [Target(row.recipient_id, row.organization_id)], action="update")
    return row


async def _visible_recurring(session: AsyncSession, actor: Actor, raw_id: object) -> RecurringForm:
    require_staff(actor)
    row = await queries.get_recurring(session, actor, raw_id)
    if row is None:
        raise NotFound.field("id", "Recurring form not found")
    return row


async def _audit_recurring(session: AsyncSession, actor: Actor, form: RecurringForm) -> None:
    """A recurrence is the record of each patient it names (groups' members: at each run)."""
    users = await queries.recurring_user_ids(session, form.id)
    await record_write(session, [Target(u, form.organization_id) for u in users], action="update")


async def update_recurring(
    session: AsyncSession, *, actor: Actor, changes: RecurringFormChanges
) -> RecurringForm:
    """Change a recurrence: its schedule, its recipients, or pause it (``is_active``)."""
    form = await _visible_recurring(session, actor, changes.id)
    fields = _merged(form, changes)
    rule = rule_of(fields)
    _store_rule(form, rule)
    if changes.is_active is not None:
        form.is_active = changes.is_active
    if changes.is_recurring is False:
        form.is_active = False
    if changes.recipient_ids is not None:
        users, groups = await _recipients(session, actor, None, changes.recipient_ids)
        await _audit_recurring(session, actor, form)  # those it named before
        await session.execute(
            delete(RecurringFormRecipient).where(
                RecurringFormRecipient.recurring_form_id == form.id
            )
        )
        session.add_all(_recipient_rows(form.id, users, groups))
    # From now on: a changed schedule never creates the occurrences it would have had before,
    # nor one at or before the latest already created (this server's clock may lag the
    # scheduler's; the same occurrence again would be skipped, never sent twice).
    after = max(filter(None, (utcnow(), await queries.last_run_at(session, form.id))))
    form.next_run_at = recurrence.next_after(rule, after, zone_of(form.timezone))
    form.updated_at = utcnow()
    await session.flush()
    await _audit_recurring(session, actor, form)
    return form


def _merged(form: RecurringForm, changes: RecurringFormChanges) -> Recurrence:
    """The stored recurrence with the given fields replaced."""

    def pick(new: str | None, old: str | None) -> str | None:
        return old if new is None else new

    ends = changes.recurrence_ends
    ends_on = pick(changes.ends_on, None if form.ends_on is None else form.ends_on.isoformat())
    return Recurrence(
        frequency=pick(changes.frequency, form.frequency),
        weekday=pick(changes.weekday, form.weekday),
        monthday=pick(changes.monthday, form.monthday),
        hour=pick(changes.hour, _stored_hour(form, changes)),
        # A new hour without a minute or period is read alone, not with the stored ones.
        minute=pick(changes.minute, form.minute if changes.hour is None else None),
        period=pick(changes.period, form.period if changes.hour is None else None),
        ends_on=ends_on,
        recurrence_ends=ends if ends is not None else ends_on is not None,
    )


def _stored_hour(form: RecurringForm, changes: RecurringFormChanges) -> str | None:
    """The stored hour (24-hour clock), on the 12-hour clock when only ``period`` changes:
    9 PM with period AM becomes 9 AM, instead of "21 AM" being refused."""
    if changes.period is None or form.hour is None or not form.hour.isdigit():
        return form.hour
    return str(int(form.hour) % 12 or 12)


async def delete_recurring(
    session: AsyncSession,
    *,
    actor: Actor,
    raw_id: object,
    connectable_id: object = None,
    connectable_type: str | None = None,
) -> tuple[RecurringForm, list[RecurringFormRecipient]]:
    """End a recurrence: no further occurrence; the requests already sent stay. With
    ``connectable_id``, only that patient or group is taken off (the last one: it ends).

    Returns the form and its recipients: those left, or those it had when it ended.
    """
    form = await _visible_recurring(session, actor, raw_id)
    await _audit_recurring(session, actor, form)
    recipients = (await queries.recipients_of(session, [form.id]))[form.id]
    if connectable_id not in (None, "") and await _take_off(
        session, form, connectable_id, connectable_type
    ):
        return form, (await queries.recipients_of(session, [form.id]))[form.id]
    await session.execute(
        update(RequestedFormCompletion)
        .where(RequestedFormCompletion.recurring_form_id == form.id)
        .values(recurring_form_id=None)
    )
    for table in (RecurringFormRecipient, RecurringFormRun):
        await session.execute(delete(table).where(table.recurring_form_id == form.id))
    await session.delete(form)
    await session.flush()
    return form, recipients


async def _take_off(
    session: AsyncSession, form: RecurringForm, raw_id: object, kind: str | None
) -> bool:
    """Remove one recipient; True while others remain (the form stays)."""
    target = v.parse_id(raw_id if isinstance(raw_id, str | int) else None, "connectable_id")
    column = RecurringFormRecipient.user_group_id
    if (kind or "UserGroup").strip().lower() == "user":
        column = RecurringFormRecipient.user_id
    listed = (await queries.recipients_of(session, [form.id]))[form.id]
    if not any(getattr(r, column.key) == target for r in listed):
        raise NotFound.field("connectable_id", "Not a recipient of this recurring form")
    await session.execute(
        delete(RecurringFormRecipient).where(
            RecurringFormRecipient.recurring_form_id == form.id, column == target
        )
    )
    form.updated_at = utcnow()
    await session.flush()
    return len(listed) > 1
