"""Writes of requested form completions (Healthie's ``createRequestedFormCompletion``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.audit.service import Target
from carebook.audit.trail import record_write
from carebook.auth.actor import Actor, require_staff
from carebook.db import lengths
from carebook.errors import Invalid
from carebook.events.emit import Change, emit_all
from carebook.forms.inputs import FormRequest
from carebook.forms.models import RequestedFormCompletion
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.lookup import all_found

ITEM_TYPES = ("CustomModuleForm", "Questionnaire")
REQUESTED_FORM_COMPLETION_CREATED = "requested_form_completion.created"


async def _recipient_ids(session: AsyncSession, actor: Actor, fields: FormRequest) -> list[int]:
    """``recipient_id`` and ``recipient_ids`` (Healthie's "1,2,group-3": a group names its
    active patients, as Healthie sends the form to everyone in it)."""
    first = v.parse_id(fields.recipient_id, "recipient_id")
    listed = v.parse_id_list(fields.recipient_ids, "recipient_ids", kinds=("user", "group"))
    ids = ([] if first is None else [first]) + listed["user"]
    if listed["group"]:
        ids += await user_queries.visible_patient_ids_in_groups(session, actor, listed["group"])
    if not ids:
        raise Invalid.field("recipient_id", "Recipient can't be blank")
    return list(dict.fromkeys(ids))


async def create_requests(
    session: AsyncSession, *, actor: Actor, fields: FormRequest
) -> list[RequestedFormCompletion]:
    """Ask one or more patients of the actor's organization to fill in a form."""
    require_staff(actor)
    raw_form = fields.custom_module_form_id or fields.form
    form_id = v.clean_text("custom_module_form_id", raw_form, limit=lengths.FORM_ID)
    if not form_id:
        raise Invalid.field("custom_module_form_id", "Form can't be blank")
    item_type = fields.item_type or ITEM_TYPES[0]
    if item_type not in ITEM_TYPES:
        raise Invalid.field("item_type", f"Item type must be one of {', '.join(ITEM_TYPES)}")
    ids = await _recipient_ids(session, actor, fields)
    patients = await user_queries.visible_patients_by_ids(session, actor, ids)
    all_found(ids, patients, field="recipient_id", label="Users")
    rows = [
        RequestedFormCompletion(
            organization_id=actor.organization_id,
            recipient_id=pid,
            sender_id=actor.user_id,
            custom_module_form_id=form_id,
            item_type=item_type,
        )
        for pid in ids
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
