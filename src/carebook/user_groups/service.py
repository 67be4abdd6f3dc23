"""Writes of user groups and onboarding flows.

Services take a session and an actor, flush but never commit (the request owns the
transaction), and raise :class:`carebook.errors.Invalid` for anything the caller got wrong.
Every id goes through the actor's organization; another organization's group or flow answers
exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor, require_staff
from carebook.auth.tokens import new_invite_code
from carebook.db import lengths
from carebook.errors import FieldMessage, Invalid, NotFound
from carebook.user_groups import queries
from carebook.user_groups.inputs import FlowChanges, GroupChanges, GroupDeletion, NewFlow, NewGroup
from carebook.user_groups.models import OnboardingFlow, UserGroup
from carebook.users import validation as v
from carebook.users.events import emit_patients_moved
from carebook.users.lookup import all_found, found
from carebook.users.models import User
from carebook.users.trail import record_ids

GROUP_NOT_FOUND = "User group not found"
FLOW_NOT_FOUND = "Onboarding flow not found"
MAX_NAME = lengths.LABEL
# A fresh code collides with an existing one about once in 10^11 draws; retry a few times.
INVITE_CODE_ATTEMPTS = 5


async def _group(session: AsyncSession, actor: Actor, raw_id: Any, field: str = "id") -> UserGroup:
    return await found(
        raw_id,
        lambda group_id: queries.get_group_in_org(session, actor.organization_id, group_id),
        field=field,
        missing=GROUP_NOT_FOUND,
    )


async def _flow_id(session: AsyncSession, actor: Actor, raw_id: Any) -> int | None:
    """``onboarding_flow_id`` as the id of a flow of the organization; blank detaches."""
    flow_id = v.parse_id(raw_id, "onboarding_flow_id")
    if flow_id is None:
        return None
    if await queries.get_flow_in_org(session, actor.organization_id, flow_id) is None:
        raise NotFound.field("onboarding_flow_id", FLOW_NOT_FOUND)
    return flow_id


async def _check_name_free(
    session: AsyncSession, organization_id: int, name: str, exclude_id: int | None = None
) -> None:
    clash = await queries.group_named(session, organization_id, v.name_key(name), exclude_id)
    if clash is not None:
        raise Invalid.field(
            "name", f"Name has already been taken: this organization has a group '{clash.name}'"
        )


async def _unused_invite_code(session: AsyncSession) -> str:
    """A new code no group and no provider has (sign-up looks codes up in both)."""
    for _ in range(INVITE_CODE_ATTEMPTS):
        code = new_invite_code()
        if not await queries.invite_code_taken(session, code):
            return code
    raise RuntimeError("no unused invite code found")  # pragma: no cover - 10^-55 odds


async def add_group(
    session: AsyncSession,
    *,
    organization_id: int,
    name: Any,
    onboarding_flow_id: int | None = None,
) -> UserGroup:
    """A group of the organization with a fresh invite code; the name must be free."""
    clean = v.clean_label(name, MAX_NAME)
    await _check_name_free(session, organization_id, clean)
    group = UserGroup(
        organization_id=organization_id,
        name=clean,
        name_key=v.name_key(clean),
        invite_code=await _unused_invite_code(session),
        onboarding_flow_id=onboarding_flow_id,
    )
    session.add(group)
    await session.flush()
    return group


async def create_group(session: AsyncSession, *, actor: Actor, fields: NewGroup) -> UserGroup:
    """Healthie's ``createGroup``: a new group in the actor's organization."""
    require_staff(actor)
    return await add_group(session, organization_id=actor.organization_id, name=fields.name)


async def update_group(session: AsyncSession, *, actor: Actor, fields: GroupChanges) -> UserGroup:
    """Healthie's ``updateUserGroup``: rename, and/or set the group's onboarding flow."""
    require_staff(actor)
    group = await _group(session, actor, fields.id)
    problems: list[FieldMessage] = []
    # No autoflush: the look-ups must not flush a half-changed row.
    with session.no_autoflush:
        try:
            if fields.name is not None:
                clean = v.clean_label(fields.name, MAX_NAME)
                await _check_name_free(session, group.organization_id, clean, group.id)
                group.name, group.name_key = clean, v.name_key(clean)
        except Invalid as error:
            problems.extend(error.messages)
        try:
            if fields.onboarding_flow_id is not None:
                flow_id = await _flow_id(session, actor, fields.onboarding_flow_id)
                group.onboarding_flow_id = flow_id
        except Invalid as error:
            problems.extend(error.messages)
    if problems:  # every problem of the request at once, as for patients
        raise Invalid(*problems)
    await session.flush()
    return group


async def delete_group(session: AsyncSession, *, actor: Actor, fields: GroupDeletion) -> UserGroup:
    """Healthie's ``deleteUserGroup``.

    The group's patients (active and archived) move to ``group_to_receive_clients``, or to no
    group when it is blank. Returns the deleted row (detached), for the payload.
    """
    require_staff(actor)
    moved = await _lock_members(session, actor, fields.id)
    group = await _group(session, actor, fields.id)
    receiver_id: int | None = None
    if fields.group_to_receive_clients not in (None, ""):
        receiver = await _group(
            session, actor, fields.group_to_receive_clients, "group_to_receive_clients"
        )
        if receiver.id == group.id:
            raise Invalid.field(
                "group_to_receive_clients", "A group cannot receive its own clients"
            )
        receiver_id = receiver.id
    await session.execute(
        update(User).where(User.user_group_id == group.id).values(user_group_id=receiver_id)
    )
    await session.delete(group)
    await session.flush()
    await record_ids(session, moved, action="update")  # the patients moved out of the group
    await emit_patients_moved(session, moved, ["user_group_id"])
    return group


async def _lock_members(
    session: AsyncSession, actor: Actor, raw_id: str | int | None
) -> list[tuple[int, int]]:
    """(id, organization_id) of the group's patients, archived ones too, its row locked first.

    Locked before the move, so a patient added concurrently is either moved and recorded or
    refused (carebook.user_groups.queries.lock_group_patients). A malformed or foreign id finds
    nobody; :func:`_group` then refuses it with its own message.
    """
    try:
        group_id = v.parse_id(raw_id, "id")
    except Invalid:
        return []
    if group_id is None:
        return []
    return await queries.lock_group_patients(session, actor=actor, group_id=group_id) or []


async def create_flow(session: AsyncSession, *, actor: Actor, fields: NewFlow) -> OnboardingFlow:
    """Healthie's ``createOnboardingFlow``, optionally attaching it to groups."""
    require_staff(actor)
    clean = v.clean_label(fields.name, MAX_NAME)
    flow = OnboardingFlow(
        organization_id=actor.organization_id, name=clean, name_key=v.name_key(clean)
    )
    session.add(flow)
    await session.flush()
    if fields.groups_to_use_onboarding_flow is not None:
        await _use_flow_in(session, actor, flow, fields.groups_to_use_onboarding_flow)
    return flow


async def update_flow(
    session: AsyncSession, *, actor: Actor, fields: FlowChanges
) -> OnboardingFlow:
    """Healthie's ``updateOnboardingFlow``: rename, and/or set the groups that use the flow."""
    require_staff(actor)
    flow = await found(
        fields.id,
        lambda flow_id: queries.get_flow_in_org(session, actor.organization_id, flow_id),
        field="id",
        missing=FLOW_NOT_FOUND,
    )
    if fields.name is not None:
        clean = v.clean_label(fields.name, MAX_NAME)
        flow.name, flow.name_key = clean, v.name_key(clean)
    if fields.groups_to_use_onboarding_flow is not None:
        await _use_flow_in(session, actor, flow, fields.groups_to_use_onboarding_flow)
    await session.flush()
    return flow


def _group_ids(value: Any) -> list[int]:
    """``groups_to_use_onboarding_flow``: a comma-separated string of ids ("1,2,3")."""
    raw: Sequence[Any] = value.split(",") if isinstance(value, str) else list(value or [])
    ids = [v.parse_id(item, "groups_to_use_onboarding_flow") for item in raw]
    return list(dict.fromkeys(gid for gid in ids if gid is not None))


async def _use_flow_in(
    session: AsyncSession, actor: Actor, flow: OnboardingFlow, value: Any
) -> None:
    """Make exactly these groups use the flow; groups that used it and are not listed stop."""
    ids = _group_ids(value)
    in_org = await queries.group_ids_in_org(session, actor.organization_id, ids)
    all_found(ids, in_org, field="groups_to_use_onboarding_flow", label="User groups")
    await session.execute(
        update(UserGroup)
        .where(UserGroup.onboarding_flow_id == flow.id, UserGroup.id.not_in(ids))
        .values(onboarding_flow_id=None)
    )
    if ids:
        await session.execute(
            update(UserGroup).where(UserGroup.id.in_(ids)).values(onboarding_flow_id=flow.id)
        )
    await session.flush()
