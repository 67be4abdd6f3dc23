"""mergeClients and unmergeClients.

A merge moves everything that belongs to the merged patients (the rows of registry.MOVED) to
the target, archives the merged patients with a pointer to the target, and logs each moved row
(carebook/users/merge_log.py); an unmerge, within ``CAREBOOK_MERGE_UNDO_DAYS``, moves exactly
those rows back and restores the patients' own columns the merge changed. Both lock the
patients' rows first (PostgreSQL; SQLite's writers take turns), so an update of either patient
waits for the merge and is applied after it, and a row added for a merged patient meanwhile
(its foreign key check waits on the same lock) either moves with the merge or comes after it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.accounts.changes import set_active
from carebook.auth.actor import Actor, require_staff
from carebook.db.base import utcnow
from carebook.errors import Invalid, NotFound
from carebook.merges.inputs import MergeClients
from carebook.merges.moves import Moves, Shift, move_back, move_to_target
from carebook.users import password_reset, queries
from carebook.users import validation as v
from carebook.users.credentials import revoke_other_sessions
from carebook.users.events import (
    CARE_TEAM_FIELD,
    WIRE_NAMES,
    emit_patients_updated,
    patient_updated,
)
from carebook.users.lookup import all_found, found
from carebook.users.merge_log import ClientMerge
from carebook.users.models import User
from carebook.users.scoping import visible_patients
from carebook.users.trail import record_patients

USER_NOT_FOUND = "User not found"
MAX_MERGED = 20
# The patient's own columns a merge may change, kept before and after in the log.
SNAPSHOT = ("active", "archived_at", "merged_into_id", "email", "email_key", "user_group_id")
# The columns unmerge restores together or not at all (each pair describes one fact).
RESTORED_TOGETHER = (
    ("email", "email_key"),
    ("active", "archived_at"),
    ("merged_into_id",),
    ("user_group_id",),
)
# A table whose rows moved, as the User field a receiver of patient.updated reads it in.
MOVED_FIELDS = {"care_team_members": CARE_TEAM_FIELD}
ALREADY_MERGED = "was merged into another client: merge into that one instead"
NOT_MERGED = "This client was not merged into another"
TOO_MANY = f"At most {MAX_MERGED} clients can be merged at once"


async def merge_clients(session: AsyncSession, *, actor: Actor, fields: MergeClients) -> User:
    """Merge the patients of ``fields.ids`` into ``fields.target_user_id`` (Healthie's
    ``mergeClients``); the target, whose own profile stays as it was but for ``target_email``."""
    require_staff(actor)
    target_id, merged_ids = _merge_ids(fields)
    patients = await _lock(session, actor, [target_id, *merged_ids])
    if target_id not in patients:
        raise NotFound.field("target_user_id", USER_NOT_FOUND)
    all_found(merged_ids, patients, field="ids", label="Users")
    target, merged = patients[target_id], [patients[i] for i in merged_ids]
    _refuse_merged(target, merged)
    everyone = [target, *merged]
    before = {user.id: _snapshot(user) for user in everyone}
    merge = ClientMerge(
        organization_id=target.organization_id,
        target_id=target.id,
        merged_by_id=actor.user_id,
        users_before="{}",
    )
    session.add(merge)
    await _give_email(session, target, merged, fields.target_email)
    if target.user_group_id is None:  # a patient in no group joins the merged patient's
        target.user_group_id = next((m.user_group_id for m in merged if m.user_group_id), None)
    for user in merged:
        set_active(user, False)
        user.merged_into_id = target.id
        # An alias signs in no more: its sessions end (an unmerge does not bring them back).
        await revoke_other_sessions(session, user_id=user.id)
    await session.flush()
    merge.users_before = _log_of(before, everyone)
    changes = {user.id: _fields_changed(before[user.id], user) for user in everyone}
    shift = Shift(merge.id, target.organization_id)
    _add_moved(changes, target.id, await move_to_target(session, shift, merged_ids, target_id))
    await record_patients(session, everyone, action="merge")
    await emit_patients_updated(session, [patient_updated(u, changes[u.id]) for u in everyone])
    return target


def _merge_ids(fields: MergeClients) -> tuple[int, list[int]]:
    target_id = v.parse_id(fields.target_user_id, "target_user_id")
    if target_id is None:
        raise Invalid.field("target_user_id", "target_user_id can't be blank")
    ids = v.parse_ids(
        fields.ids or [],
        most=MAX_MERGED + 1,  # the target may be among them
        too_many=TOO_MANY,
    )
    merged_ids = [pid for pid in ids if pid != target_id]
    if not merged_ids:
        raise Invalid.field("ids", "Give at least one client other than target_user_id")
    if len(merged_ids) > MAX_MERGED:
        raise Invalid.field("ids", TOO_MANY)
    return target_id, merged_ids


def _refuse_merged(target: User, merged: Sequence[User]) -> None:
    """A merged patient is an archived alias: merging it again would split the trail."""
    if target.merged_into_id is not None:
        raise Invalid.field("target_user_id", f"This client {ALREADY_MERGED}")
    again = [str(user.id) for user in merged if user.merged_into_id is not None]
    if again:
        raise Invalid.field("ids", f"Client {', '.join(again)} {ALREADY_MERGED}")


async def _lock(session: AsyncSession, actor: Actor, ids: Sequence[int]) -> dict[int, User]:
    """The visible patients among ``ids``, their rows locked in id order (no deadlock between
    two merges) until the transaction ends: an update of one of them waits for this write."""
    query = visible_patients(actor).where(User.id.in_(ids)).order_by(User.id)
    # populate_existing: a copy read earlier in this session (before the lock) is replaced by
    # the row as it is now, so no rule is checked, nor column compared, on a stale value.
    query = query.with_for_update(of=User).execution_options(populate_existing=True)
    result = await session.execute(query)
    return {user.id: user for user in result.scalars()}


async def _give_email(
    session: AsyncSession, target: User, merged: Sequence[User], target_email: str | None
) -> None:
    """``target_email`` becomes the target's; a merged patient who had it gives it up."""
    if target_email is None:
        return
    email = v.clean_email(target_email, "target_email")
    key = v.email_key(email)
    for user in merged:
        if user.email_key == key:
            user.email, user.email_key = None, None
    await session.flush()  # the address is free before anyone checks or takes it
    if key == target.email_key:
        return
    if await queries.patient_email_taken(session, target.organization_id, key or "", target.id):
        raise Invalid.field("target_email", "Email has already been taken")
    # Reset and invitation links went to the old address (as updateClient does).
    await password_reset.use_up_links(session, target.id)
    target.email, target.email_key = email, key


def _snapshot(user: User) -> dict[str, Any]:
    values = {name: getattr(user, name) for name in SNAPSHOT}
    archived = values["archived_at"]
    values["archived_at"] = archived.isoformat() if archived is not None else None
    return values


def _log_of(before: dict[int, dict[str, Any]], users: Sequence[User]) -> str:
    """The patients' columns before and after the merge, as the log keeps them."""
    return json.dumps(
        {str(u.id): {"before": before[u.id], "after": _snapshot(u)} for u in users},
        sort_keys=True,
    )


def _fields_changed(before: dict[str, Any], user: User) -> list[str]:
    """The API names of the patient's own columns that differ from ``before`` (a snapshot):
    compared by value, since the merge flushes (and so forgets what changed) on its way."""
    now = _snapshot(user)
    return [WIRE_NAMES[n] for n in SNAPSHOT if n in WIRE_NAMES and before[n] != now[n]]


def _add_moved(changes: dict[int, list[str]], target_id: int, moved: Sequence[Moves]) -> None:
    """A moved row changes a field (the care team) of both patients it moved between."""
    for table, user_id in moved:
        if table in MOVED_FIELDS:
            changes[target_id].append(MOVED_FIELDS[table])
            changes[user_id].append(MOVED_FIELDS[table])


# --- unmerge --------------------------------------------------------------------------------


async def unmerge_clients(
    session: AsyncSession, *, actor: Actor, user_id: str | int | None, undo_days: int
) -> list[User]:
    """Undo the merge that archived the patient ``user_id``: its patients, target first."""
    require_staff(actor)
    patient = await found(
        user_id,
        lambda key: queries.get_visible_patient(session, actor, key),
        field="id",
        missing=USER_NOT_FOUND,
    )
    ids = [int(uid) for uid in json.loads((await _merge_of(session, patient)).users_before)]
    # Read unlocked only to learn whom to lock; every rule is checked again under the locks
    # (PostgreSQL: a concurrent unmerge, merge or update has committed by then, or waits).
    users = await _lock(session, actor, ids)
    all_found(ids, users, field="id", label="Users")  # one hidden from the caller since
    merge = await _lock_merge(session, users[patient.id])
    _check_undoable(merge, undo_days)
    await _refuse_later_merge(session, merge)
    log = json.loads(merge.users_before)
    if set(log) != {str(uid) for uid in users}:
        raise Invalid.field("id", NOT_MERGED)
    target = users[merge.target_id]
    if target.merged_into_id is not None:
        raise Invalid.field("id", "The client this one was merged into was merged since: undo that")
    everyone = [target, *(u for uid, u in sorted(users.items()) if uid != target.id)]
    merged = {user.id: _snapshot(user) for user in everyone}
    for user in everyone:  # the target first: it gives back an address a merged patient had
        await _restore(session, user, log[str(user.id)])
        await session.flush()
    changes = {user.id: _fields_changed(merged[user.id], user) for user in everyone}
    shift = Shift(merge.id, target.organization_id)
    _add_moved(changes, target.id, await move_back(session, shift, target.id, merge.merged_at))
    merge.unmerged_at, merge.unmerged_by_id = utcnow(), actor.user_id
    await record_patients(session, everyone, action="unmerge")
    await emit_patients_updated(session, [patient_updated(u, changes[u.id]) for u in everyone])
    return everyone


async def _merge_of(session: AsyncSession, patient: User, *, lock: bool = False) -> ClientMerge:
    """The merge, not undone, that archived ``patient`` into the client it points at; with
    ``lock``, its log row locked and read afresh (no second unmerge of it meanwhile)."""
    if patient.merged_into_id is not None:
        query = (
            select(ClientMerge)
            .where(
                ClientMerge.target_id == patient.merged_into_id,
                ClientMerge.unmerged_at.is_(None),
            )
            .order_by(ClientMerge.id.desc())
        )
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        for merge in (await session.execute(query)).scalars():
            if str(patient.id) in json.loads(merge.users_before):
                return merge
    raise Invalid.field("id", NOT_MERGED)


async def _lock_merge(session: AsyncSession, patient: User) -> ClientMerge:
    """``_merge_of`` the freshly locked ``patient``, its log row locked too."""
    return await _merge_of(session, patient, lock=True)


def _check_undoable(merge: ClientMerge, undo_days: int) -> None:
    if merge.merged_at + timedelta(days=undo_days) < utcnow():
        raise Invalid.field(
            "id", f"This merge is older than {undo_days} days and can no longer be undone"
        )


async def _refuse_later_merge(session: AsyncSession, merge: ClientMerge) -> None:
    """Merges into one client are undone newest first: a later one may have changed the same
    columns of the target (its email), which only its own undo restores."""
    later = await session.execute(
        select(ClientMerge.id).where(
            ClientMerge.target_id == merge.target_id,
            ClientMerge.id > merge.id,
            ClientMerge.unmerged_at.is_(None),
        )
    )
    if later.first() is not None:
        raise Invalid.field("id", "A later merge into the same client must be undone first")


async def _restore(session: AsyncSession, user: User, logged: dict[str, Any]) -> None:
    """Put back each group of columns the merge changed and nobody changed since (a later
    change wins): a pair (the address and its key, active and when archived) only as a whole,
    or one side would disagree with the other (two patients with one address)."""
    now = _snapshot(user)
    for group in RESTORED_TOGETHER:
        before = {name: logged["before"][name] for name in group}
        after = {name: logged["after"][name] for name in group}
        if before == after or any(now[name] != after[name] for name in group):
            continue
        if "email_key" in group and await _taken(session, user, before["email_key"]):
            raise Invalid.field("id", f"Client {user.id}'s email has been taken since")
        for name, value in before.items():
            setattr(
                user,
                name,
                datetime.fromisoformat(value) if name == "archived_at" and value else value,
            )


async def _taken(session: AsyncSession, user: User, key: str | None) -> bool:
    """Whether another patient of the organization took the address ``key`` since the merge."""
    if key is None:
        return False
    return await queries.patient_email_taken(session, user.organization_id, key, user.id)
