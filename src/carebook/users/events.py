"""The webhook events of patients: ``patient.created`` and ``patient.updated``.

A patient's event names the patient (``User``) and carries the patient's organization, whoever
wrote it. ``changed_fields`` are the names of the User fields of the API (Healthie's), never
values: a column whose API name differs is renamed here, an internal column is left out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from carebook.events.changes import changed_attributes
from carebook.events.emit import Change, emit_all
from carebook.users.models import User

PATIENT_CREATED = "patient.created"
PATIENT_UPDATED = "patient.updated"

# Column attribute -> the User field of the API that shows it. Left out on purpose: email_key
# (email's lookup form), archived_at (follows active), password_hash (a secret: a new password
# is not a change a receiver can read back), activity times (use, not change), invite_code and
# npi (providers' only).
WIRE_NAMES = {
    "first_name": "first_name",
    "last_name": "last_name",
    "legal_name": "legal_name",
    "preferred_name": "preferred_name",
    "pronouns": "pronouns",
    "email": "email",
    "skipped_email": "skipped_email",
    "phone_number": "phone_number",
    "dob": "dob",
    "gender": "gender",
    "gender_identity": "gender_identity",
    "sex": "sex",
    "timezone": "timezone",
    "record_identifier": "record_identifier",
    "additional_record_identifier": "additional_record_identifier",
    "dietitian_id": "dietitian_id",
    "user_group_id": "user_group_id",
    "active": "active",
    "user_metadata": "metadata",
    "quick_notes": "quick_notes",
    "additional_phone_number": "additional_phone_number",
    "height": "height",
    "weight": "weight",
    "human_id": "human_id",
    "preferred_language_code": "preferred_language_code",
    "primary_race_code": "primary_race_code",
    "secondary_race_code": "secondary_race_code",
    "primary_ethnicity_code": "primary_ethnicity_code",
    "secondary_ethnicity_code": "secondary_ethnicity_code",
    "sexual_orientation_code": "sexual_orientation_code",
    "sexual_orientation_other": "sexual_orientation_other",
    "gender_identity_code": "gender_identity_code",
}

# The User field that lists a patient's further providers (the care team).
CARE_TEAM_FIELD = "other_provider_ids"


def team_field(changed: bool) -> list[str]:
    """``[CARE_TEAM_FIELD]`` when the care team changed, else nothing."""
    return [CARE_TEAM_FIELD] if changed else []


def patient_changes(user: User) -> list[str]:
    """The API names of the fields of ``user`` set to a new value and not flushed yet."""
    return changed_attributes(user, WIRE_NAMES)


async def emit_patient_created(session: AsyncSession, user: User) -> None:
    """``patient.created`` for a patient that has its id (flushed), written now with one Core
    INSERT: as an ORM object it went in with the next flush, whose unit of work cost a
    createClient more than the statement itself (issue 28)."""
    await emit_all(session, [Change(user.organization_id, PATIENT_CREATED, user.id)])


async def emit_patient_updated(session: AsyncSession, user: User, changed: Iterable[str]) -> None:
    """``patient.updated`` listing ``changed``; nothing when nothing changed (a write that
    leaves the record as it was tells receivers nothing new) or when ``user`` is not a
    patient (providers and staff have no event). Written now with one Core INSERT, as
    :func:`emit_patient_created`: an ORM object went in with the commit's flush, whose unit of
    work cost an updateClient more than the statement."""
    change = patient_updated(user, changed)
    if change is not None:
        await emit_all(session, [change])


def patient_updated(user: User, changed: Iterable[str]) -> Change | None:
    """The ``patient.updated`` of ``user`` listing ``changed``, for :func:`emit_all`; None
    when nothing changed or ``user`` is not a patient."""
    fields = sorted(set(changed))
    if not fields or not user.is_patient:
        return None
    return Change(user.organization_id, PATIENT_UPDATED, user.id, fields)


def bulk_updates(
    patients: Iterable[tuple[int, int]],
    column: str | None,
    moved: Collection[int],
    new_teams: Collection[int],
) -> list[Change]:
    """The ``patient.updated`` of each patient (id, organization id) a bulk write changed:
    ``column`` for those in ``moved``, the care team for those in ``new_teams``; as
    :func:`patient_updated` builds them, each set of fields built once."""
    fields_of: dict[tuple[bool, bool], list[str]] = {}
    changes = []
    for patient_id, organization_id in patients:
        key = (bool(column) and patient_id in moved, patient_id in new_teams)
        fields = fields_of.get(key)
        if fields is None:
            named = [column] if key[0] and column else []
            fields = fields_of[key] = sorted({*named, *team_field(key[1])})
        if fields:
            changes.append(Change(organization_id, PATIENT_UPDATED, patient_id, fields))
    return changes


async def emit_patients_updated(session: AsyncSession, changes: Iterable[Change | None]) -> None:
    """The ``patient.updated`` events of a bulk write, in one INSERT."""
    await emit_all(session, [change for change in changes if change is not None])


async def emit_patients_moved(
    session: AsyncSession, patients: Iterable[tuple[int, int]], changed: Iterable[str]
) -> None:
    """``patient.updated`` for each (id, organization_id) a bulk statement changed without
    loading the rows (a deleted group's patients moving out of it)."""
    fields = sorted(set(changed))
    await emit_all(
        session,
        [Change(org_id, PATIENT_UPDATED, pid, fields) for pid, org_id in patients],
    )
