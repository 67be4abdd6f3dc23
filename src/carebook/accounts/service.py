"""Writes of patients by providers/staff and by patients themselves.

Services take a session and an actor, flush but never commit (the request owns the
transaction), and raise :class:`carebook.errors.Invalid` for anything the caller got wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts.addresses import apply_locations
from carebook.accounts.bulk_writes import write_columns
from carebook.accounts.care_team import notify_providers
from carebook.accounts.changes import ChangeContext, apply_changes
from carebook.accounts.enrollment import AccountExists
from carebook.accounts.own_email import other_patients_address, refuse_quietly
from carebook.auth.actor import Actor, require_staff
from carebook.auth.passwords import Passwords
from carebook.auth.roles import Role
from carebook.errors import FieldMessage, Invalid, NotFound
from carebook.forms import queries as form_queries
from carebook.locations.inputs import ClientLocation
from carebook.notifications.models import EmailKind
from carebook.notifications.outbox import queue_email
from carebook.user_groups import queries as group_queries
from carebook.user_notifications.models import NotificationKind
from carebook.users import password_reset, queries
from carebook.users import validation as v
from carebook.users.activation import Invitations, ensure_signup_token
from carebook.users.credentials import revoke_other_sessions
from carebook.users.events import (
    bulk_updates,
    emit_patient_created,
    emit_patient_updated,
    emit_patients_updated,
    patient_changes,
    team_field,
)
from carebook.users.inputs import (
    BulkClientChanges,
    ClientChanges,
    NewClient,
    Profile,
    ProviderIds,
    UserChanges,
)
from carebook.users.lookup import all_found, found
from carebook.users.merged import refuse_merged
from carebook.users.models import CareTeamMember, User
from carebook.users.scoping import may_manage
from carebook.users.trail import record_ids, record_patients, status_action

CURRENT_EMAIL_ELSEWHERE = "current_email is not the email of the client named by id"
USER_NOT_FOUND = "User not found"


async def create_client(
    session: AsyncSession,
    *,
    actor: Actor,
    passwords: Passwords,
    fields: NewClient,
    invitations: Invitations | None = None,
) -> User:
    """Create a patient in the actor's organization (Healthie's ``createClient``).

    With ``invitations``, a patient who has an email and no password gets a signup token (the
    set-password link of the welcome email), whether or not the welcome email is sent.
    """
    require_staff(actor)
    if fields.dietitian_id in (None, ""):
        fields = replace(fields, dietitian_id=str(actor.user_id))
    # The names, and the email unless skipped, are checked even when not given (blank).
    required = ("first_name", "last_name", *(() if fields.skipped_email else ("email",)))
    user = User(organization_id=actor.organization_id, role=Role.PATIENT.value, active=True)
    user.skipped_email = False
    ctx = ChangeContext(session, actor.organization_id, passwords, actor)
    await apply_changes(ctx, user, fields, required)
    other_ids = await _check_other_providers(session, actor, fields.other_provider_ids)
    session.add(user)
    await session.flush()
    await emit_patient_created(session, user)
    await _set_care_team(session, user, other_ids, new=True)
    await _invite(session, user, invitations, new=True)
    if not fields.dont_send_welcome:
        await queue_email(
            session,
            organization_id=user.organization_id,
            recipient_user_id=user.id,
            kind=EmailKind.WELCOME,
        )
    await record_patients(session, [user], action="create")
    return user


async def _invite(
    session: AsyncSession, user: User, invitations: Invitations | None, *, new: bool = False
) -> None:
    """A signup token for a patient without a password (``new``: created in this
    transaction)."""
    if invitations is None or not user.email or user.password_hash is not None:
        return
    await ensure_signup_token(
        session, user=user, secret_key=invitations.secret_key, ttl=invitations.ttl, new=new
    )


async def _check_other_providers(
    session: AsyncSession, actor: Actor, value: ProviderIds | None
) -> list[int] | None:
    """``other_provider_ids`` (a comma-separated string or a list) as ids of staff in the org."""
    return await _check_providers(session, actor, value, "other_provider_ids")


async def _set_care_team(
    session: AsyncSession, user: User, provider_ids: list[int] | None, *, new: bool = False
) -> bool:
    """Make ``provider_ids`` (but the primary provider) the further providers; whether the
    team changed (``patient.updated`` names it only then). A ``new`` patient has none yet."""
    if provider_ids is None:
        return False
    wanted = {pid for pid in provider_ids if pid != user.dietitian_id}
    if not new:
        present = await session.execute(
            select(CareTeamMember.provider_id).where(CareTeamMember.patient_id == user.id)
        )
        if set(present.scalars()) == wanted:
            return False
        await session.execute(delete(CareTeamMember).where(CareTeamMember.patient_id == user.id))
    session.add_all(CareTeamMember(patient_id=user.id, provider_id=pid) for pid in sorted(wanted))
    await session.flush()
    return True


async def _load_patient_for_update(
    session: AsyncSession, actor: Actor, raw_id: str | int | None
) -> User:
    return await found(
        raw_id,
        lambda user_id: queries.get_visible_patient(session, actor, user_id),
        field="id",
        missing=USER_NOT_FOUND,
    )


async def _client_to_update(session: AsyncSession, actor: Actor, fields: ClientChanges) -> User:
    """``id``, else the practice's patient whose email is ``current_email`` (Healthie's
    look-up by email); neither is "User not found" on ``id``. Both must name the same patient:
    a client that sends both and means two people changes no one."""
    key = v.email_key(fields.current_email or "")
    if v.parse_id(fields.id, "id") is None and key:
        patient = await queries.find_patient_by_email(session, actor, key)
        if patient is None:
            raise NotFound.field("current_email", USER_NOT_FOUND)
        return patient
    patient = await _load_patient_for_update(session, actor, fields.id)
    if key and patient.email_key != key:
        raise Invalid.field("current_email", CURRENT_EMAIL_ELSEWHERE)
    return patient


async def update_client(
    session: AsyncSession,
    *,
    actor: Actor,
    passwords: Passwords,
    fields: ClientChanges,
    invitations: Invitations | None = None,
    locations: Sequence[ClientLocation] | None = None,
) -> User:
    """Update a patient (Healthie's ``updateClient``), their addresses included.

    Email-trigger inputs take precedence: when one is given the email is queued and the other
    changes are not applied, as Healthie documents.
    """
    require_staff(actor)
    user = await _client_to_update(session, actor, fields)
    refuse_merged([user], field="id")
    await record_patients(session, [user], action=status_action(fields.active))
    if await _send_requested_email(session, actor, user, fields, invitations):
        return user
    if fields.for_changing_groups:
        fields = replace(fields, user_group_id="")
    ctx = ChangeContext(session, actor.organization_id, passwords, actor)
    await apply_changes(ctx, user, fields)
    changed = patient_changes(user)  # before anything flushes the new values
    await _end_sessions_on_new_password(session, actor, user, fields)
    other_ids = await _check_other_providers(session, actor, fields.other_provider_ids)
    await session.flush()
    if other_ids is None and fields.dietitian_id is not None:
        # A new primary provider is no longer one of the further providers.
        await session.execute(
            delete(CareTeamMember).where(
                CareTeamMember.patient_id == user.id,
                CareTeamMember.provider_id == user.dietitian_id,
            )
        )
    changed += team_field(await _set_care_team(session, user, other_ids))
    await apply_locations(session, actor, user, locations)
    await emit_patient_updated(session, user, changed)
    return user


async def send_welcome_email(
    session: AsyncSession,
    *,
    actor: Actor,
    user_id: str | int | None,
    invitations: Invitations | None = None,
) -> User:
    """Queue a patient's welcome email again (Healthie's ``sendWelcomeEmail``).

    The same as ``updateClient(resend_welcome: true)``: a patient without a password gets a
    fresh set-password link when theirs is used up or expired.
    """
    require_staff(actor)
    user = await found(
        user_id,
        lambda key: queries.get_visible_patient(session, actor, key),
        field="user_id",
        missing=USER_NOT_FOUND,
    )
    if not user.active:
        raise Invalid.field("user_id", "This client is archived: reactivate them first")
    try:
        await _queue(session, user, EmailKind.WELCOME)
    except Invalid as problem:  # _queue speaks of "email"; this input has only user_id
        raise Invalid(*(FieldMessage("user_id", m.message) for m in problem.messages)) from None
    await _invite(session, user, invitations)
    await record_patients(session, [user], action="update")
    return user


async def _end_sessions_on_new_password(
    session: AsyncSession, actor: Actor, user: User, changes: Profile
) -> None:
    """A new password signs the user out everywhere else (a stolen session dies with it), and
    ends their outstanding reset and invitation links (one may have been sent to an attacker)."""
    if changes.password is not None:
        keep = actor.session_token_id if actor.user_id == user.id else None
        await revoke_other_sessions(session, user_id=user.id, keep_token_id=keep)
        await password_reset.use_up_links(session, user.id)


async def _send_requested_email(
    session: AsyncSession,
    actor: Actor,
    user: User,
    fields: ClientChanges,
    invitations: Invitations | None,
) -> bool:
    """Queue the email an email-trigger input asks for; False when none was asked for."""
    if fields.resend_welcome:
        await _queue(session, user, EmailKind.WELCOME)
        await _invite(session, user, invitations)
        return True
    if not fields.send_form_request_reminder:
        return False
    if fields.is_intake_item:
        await _queue(session, user, EmailKind.INTAKE_REMINDER)
        return True
    if fields.requested_form_completion_id not in (None, ""):
        request = await form_queries.get_request_of_patient(
            session, actor, user.id, fields.requested_form_completion_id
        )
        if request is None:
            raise NotFound.field(
                "requested_form_completion_id", "Requested form completion not found"
            )
        await _queue(
            session,
            user,
            EmailKind.FORM_REQUEST_REMINDER,
            {"requested_form_completion_id": request.id},
        )
        return True
    raise Invalid.field(
        "send_form_request_reminder",
        "send_form_request_reminder needs is_intake_item or requested_form_completion_id",
    )


async def _queue(
    session: AsyncSession, user: User, kind: EmailKind, params: dict[str, int | str] | None = None
) -> None:
    if not user.email:
        raise Invalid.field("email", "This client has no email address to send to")
    queued = await queue_email(
        session,
        organization_id=user.organization_id,
        recipient_user_id=user.id,
        kind=kind,
        params=params,
    )
    if queued is None:
        # Asked for explicitly: say why nothing will arrive rather than pretend it was sent.
        raise Invalid.field(
            "send_form_request_reminder",
            "This client has turned off form request emails in their notification settings",
        )


async def update_user(
    session: AsyncSession,
    *,
    actor: Actor,
    passwords: Passwords,
    fields: UserChanges,
    locations: Sequence[ClientLocation] | None = None,
) -> User | AccountExists:
    """A user updating themselves, or staff updating a patient (Healthie's ``updateUser``),
    their addresses included. A patient moving their own address to another patient's changes
    nothing and gets AccountExists (carebook.accounts.own_email)."""
    user = await _target_of_update_user(session, actor, fields)
    refuse_merged([user], field="id")
    if fields.password is not None:
        await _check_password_change(passwords, actor, user, fields)
    if _changes_email(user, fields.email):
        await _check_current_password(passwords, actor, user, fields.current_password)
    if actor.is_patient:
        # A patient may not move themselves between providers, groups or statuses, nor write
        # what only the practice keeps (its notes, the id another system knows them by).
        fields = replace(
            fields,
            dietitian_id=None,
            user_group_id=None,
            active=None,
            record_identifier=None,
            quick_notes=None,
            human_id=None,
        )
    ctx = ChangeContext(session, user.organization_id, passwords, actor)
    owner_id = await other_patients_address(session, actor, user, fields.email)
    if owner_id is not None:
        return await refuse_quietly(ctx, user, fields, locations, owner_id)
    await apply_changes(ctx, user, fields)
    fields_changed = patient_changes(user)  # before anything flushes the new values
    await _end_sessions_on_new_password(session, actor, user, fields)
    changed = session.is_modified(user) or bool(locations)
    await session.flush()
    await apply_locations(session, actor, user, locations)
    if changed and actor.is_patient and user.id == actor.user_id:
        # A patient changing their own profile tells their providers (in-app notification).
        await notify_providers(session, patient=user, kind=NotificationKind.PROFILE_UPDATED)
    await record_patients(session, [user], action="update")
    await emit_patient_updated(session, user, fields_changed)
    return user


async def _check_password_change(
    passwords: Passwords, actor: Actor, user: User, changes: UserChanges
) -> None:
    """Changing one's own password needs the current one; a confirmation must match."""
    confirmation = changes.password_confirmation
    if confirmation is not None and confirmation != changes.password:
        raise Invalid.field("password_confirmation", "Password confirmation doesn't match")
    await _check_current_password(passwords, actor, user, changes.current_password)


def _changes_email(user: User, email: str | None) -> bool:
    """Whether ``email`` (as given) would move the address the user signs in with."""
    return email is not None and v.email_key(email) != user.email_key


async def _check_current_password(
    passwords: Passwords, actor: Actor, user: User, current_password: str | None
) -> None:
    """One's own password or sign-in address changes only with the current password: a stolen
    session must not be enough to take the account over (change the address, then reset)."""
    own_password = user.id == actor.user_id and user.password_hash is not None
    if own_password and not await passwords.verify(user.password_hash, current_password or ""):
        raise Invalid.field("current_password", "Current password is incorrect")


async def _target_of_update_user(session: AsyncSession, actor: Actor, fields: UserChanges) -> User:
    user_id = v.parse_id(fields.id, "id")  # a blank id means the caller, as in Healthie
    if user_id is not None:
        target = await queries.get_visible_user(session, actor, user_id)
        if target is None or not may_manage(actor, target):
            raise NotFound.field("id", USER_NOT_FOUND)
        return target
    key = v.email_key(fields.current_email or "")
    if key:
        # Scoped like every read: a patient's current_email can only name themselves.
        patient = await queries.find_patient_by_email(session, actor, key)
        if patient is None:
            raise NotFound.field("current_email", USER_NOT_FOUND)
        return patient
    own = await queries.get_visible_user(session, actor, actor.user_id)
    if own is None:
        raise NotFound.field("id", USER_NOT_FOUND)
    return own


# What a bulk update reads of each patient: identity and the audit trail's (id, organization,
# role), the merge check, the columns it may change and the primary provider (care teams).
_BULK_READS = (
    "id", "organization_id", "role", "merged_into_id", "user_group_id", "active", "archived_at",
    "dietitian_id",
)  # fmt: skip


async def bulk_update_clients(
    session: AsyncSession,
    *,
    actor: Actor,
    fields: BulkClientChanges,
    max_ids: int,
    shown: tuple[str, ...] | None = None,
) -> list[User]:
    """Move patients to a group, change their active status, and add providers to or remove
    them from their care teams; all or nothing.

    ``shown``: the columns the caller reads of the patients returned (None: any), so that only
    those and the update's own are loaded.
    """
    require_staff(actor)
    patient_ids = v.parse_ids(
        fields.ids or [], most=max_ids, too_many=f"At most {max_ids} ids can be updated at once"
    )
    patients = await queries.visible_patients_by_ids(
        session, actor, patient_ids, _bulk_columns(fields, shown)
    )
    all_found(patient_ids, patients, field="ids", label="Users")
    refuse_merged(patients.values(), field="ids")
    added = await _check_other_providers(session, actor, fields.other_provider_ids)
    removed = await _check_providers(
        session, actor, fields.provider_ids_to_remove, "provider_ids_to_remove"
    )
    care_team = added is not None or removed is not None
    values = await _bulk_values(session, actor, fields, care_team=care_team)
    # Set-based: one UPDATE for the patients whose column changes (accounts/bulk_writes.py).
    column = next(iter(values), None)
    moved = await write_columns(session, patients.values(), values)
    changed = [patients[pid] for pid in patient_ids]
    new_teams = await _change_care_teams(session, changed, added or [], removed or [])
    action = status_action(values["active"]) if "active" in values else "update"
    # Each patient's id and organization without reading them off a thousand rows (three
    # instrumented attribute reads each, about 5 % of a move's CPU): the ids are the ones
    # asked for, all found, and a staff member sees patients of their own organization only.
    targets = [(pid, actor.organization_id) for pid in patient_ids]
    await record_ids(session, targets, action=action)
    # One patient.updated per patient that changed: its column, its care team.
    await emit_patients_updated(session, bulk_updates(targets, column, moved, new_teams))
    return changed


def _bulk_columns(
    fields: BulkClientChanges, shown: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    """The columns to load of a bulk update's patients; None (the whole row) when the caller
    shows any, or when the active flag changes (a group, when given, wins over it): a
    reactivated patient's duplicate-blocking keys are built from their whole record
    (accounts/bulk_writes.py)."""
    if shown is None or (fields.active_status is not None and fields.user_group_id is None):
        return None
    return tuple(dict.fromkeys((*_BULK_READS, *shown)))


async def _check_providers(
    session: AsyncSession, actor: Actor, value: ProviderIds | None, field: str
) -> list[int] | None:
    """A list (or comma-separated string) of ids of the organization's providers and staff."""
    if value is None:
        return None
    raw = value.split(",") if isinstance(value, str) else list(value)
    ids = [pid for item in raw if (pid := v.parse_id(item, field)) is not None]
    staff = await queries.staff_ids_in_org(session, actor.organization_id, ids)
    all_found(ids, staff, field=field, label="Providers")
    return sorted(set(ids))


async def _change_care_teams(
    session: AsyncSession, patients: list[User], added: list[int], removed: list[int]
) -> set[int]:
    """Add ``added`` to each patient's further providers (not their primary one, not twice),
    then take ``removed`` off: a provider in both ends up removed. The ids of the patients
    whose team changed."""
    if not patients or not (added or removed):
        return set()
    patient_ids = [patient.id for patient in patients]
    team = await session.execute(
        select(CareTeamMember.patient_id, CareTeamMember.provider_id).where(
            CareTeamMember.patient_id.in_(patient_ids)
        )
    )
    present = {(patient_id, provider_id) for patient_id, provider_id in team}
    keep = [pid for pid in added if pid not in removed]
    new_members = [
        CareTeamMember(patient_id=patient.id, provider_id=pid)
        for patient in patients
        for pid in keep
        if pid != patient.dietitian_id and (patient.id, pid) not in present
    ]
    session.add_all(new_members)
    if removed:
        await session.execute(
            delete(CareTeamMember).where(
                CareTeamMember.patient_id.in_(patient_ids),
                CareTeamMember.provider_id.in_(removed),
            )
        )
    await session.flush()
    gone = {patient_id for patient_id, provider_id in present if provider_id in removed}
    return gone | {member.patient_id for member in new_members}


async def _bulk_values(
    session: AsyncSession, actor: Actor, fields: BulkClientChanges, *, care_team: bool
) -> dict[str, Any]:
    """The one column a bulk update changes; user_group_id wins over active_status. Neither is
    needed when the care teams change."""
    if fields.user_group_id is not None:
        group_id = v.parse_id(fields.user_group_id, "user_group_id")
        if group_id is not None and (
            await group_queries.get_group_in_org(session, actor.organization_id, group_id) is None
        ):
            raise Invalid.field("user_group_id", "User group not found")
        return {"user_group_id": group_id}
    if fields.active_status is not None:
        return {"active": fields.active_status}
    if care_team:
        return {}
    raise Invalid.field("active_status", "Give user_group_id or active_status")
