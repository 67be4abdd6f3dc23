"""Row-level visibility: the one place that decides which users an actor may see.

Every query of user rows goes through :func:`visible_users`, so no resolver or service can forget
authorization. Another organization's records answer exactly like missing ones.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from carebook.auth.actor import Actor
from carebook.user_groups.models import UserGroup
from carebook.users.models import Role, User


def visible_users(actor: Actor) -> Select[User]:
    """A SELECT of the users ``actor`` may read."""
    query = select(User)
    if actor.is_patient:
        return query.where(User.id == actor.user_id)
    return query.where(User.organization_id == actor.organization_id)


def visible_patients(actor: Actor) -> Select[User]:
    """A SELECT of the patients ``actor`` may read."""
    return visible_users(actor).where(User.role == Role.PATIENT)


def sees_every_patient(actor: Actor) -> bool:
    """True when ``actor`` may read every patient of its organization (staff and providers).

    Rows that carry the organization and the role of a user (``search_tokens``) then decide
    visibility alone, without reading the user rows.
    """
    return not actor.is_patient


def visible_groups(actor: Actor) -> Select[UserGroup]:
    """A SELECT of the user groups ``actor`` may read: a patient's own group, or the org's."""
    query = select(UserGroup).where(UserGroup.organization_id == actor.organization_id)
    if actor.is_patient:
        own = select(User.user_group_id).where(User.id == actor.user_id).scalar_subquery()
        return query.where(UserGroup.id == own)
    return query
