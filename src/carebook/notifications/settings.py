"""Notification settings: reading them in batches, and ``updateNotificationSetting``.

Who may change whose: a user their own, providers and staff their organization's patients (the
rule of ``updateUser``; visibility from users/scoping.py). Changing a patient's setting is an
``update`` of that patient in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.errors import NotFound
from carebook.notifications.inputs import SettingChanges
from carebook.notifications.models import NotificationSetting
from carebook.notifications.preferences import PREFERENCES
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.models import User
from carebook.users.scoping import may_manage
from carebook.users.trail import record_patients

SETTING_NOT_FOUND = "Notification setting not found"


async def load_settings(
    session: AsyncSession, user_ids: Sequence[int]
) -> list[NotificationSetting | None]:
    """The stored setting of each user, in order (None: never changed, every preference on)."""
    query = select(NotificationSetting).where(NotificationSetting.user_id.in_(user_ids))
    found = {row.user_id: row for row in (await session.execute(query)).scalars()}
    return [found.get(user_id) for user_id in user_ids]


async def setting_owner(
    session: AsyncSession, actor: Actor, raw_id: str | int | None
) -> User | None:
    """The user whose setting ``raw_id`` names (blank: the caller), if ``actor`` may change it.

    A setting's id is its user's. Staff reach their own and their organization's patients'; a
    patient only their own. None for anything else, like a missing one.
    """
    user_id = v.parse_id(raw_id, "id")
    target = await user_queries.get_visible_user(
        session, actor, actor.user_id if user_id is None else user_id
    )
    if target is None or not may_manage(actor, target):
        return None
    return target


async def update_setting(
    session: AsyncSession, *, actor: Actor, fields: SettingChanges
) -> tuple[User, NotificationSetting]:
    """Change the given preferences of one user's setting (Healthie's updateNotificationSetting)."""
    owner = await setting_owner(session, actor, fields.id)
    if owner is None:
        raise NotFound.field("id", SETTING_NOT_FOUND)
    setting = await session.get(NotificationSetting, owner.id)
    if setting is None:
        setting = NotificationSetting(user_id=owner.id)
        session.add(setting)
    for name in PREFERENCES:
        value = getattr(fields, name)
        if value is not None:
            setattr(setting, name, value)
    await session.flush()
    await record_patients(session, [owner], action="update")
    return owner, setting
