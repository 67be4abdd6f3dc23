"""Row-level visibility: the one place that decides which users (and user groups) an actor may see.

Every query of user rows goes through :func:`visible_users`, so no resolver or service can forget
authorization. Another organization's records answer exactly like missing ones.

The statements built here are cached per actor (users/queries.py ``_one_user``, and the
single-row reads' per-Database cache): they must be a function of the :class:`Actor` value alone,
never of the clock or the request.

It lives in ``users`` (not in the auth core) because its rules are statements on the user table;
the group rule takes the group table's columns from its caller (user_groups sits above users).
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, false, or_, select

from carebook.auth.actor import Actor
from carebook.auth.roles import Role
from carebook.times import zone_of
from carebook.users.models import CareTeamMember, User


def visible_users(actor: Actor) -> Select[User]:
    """A SELECT of the users ``actor`` may read."""
    query = select(User)
    if actor.is_patient:
        return query.where(User.id == actor.user_id)
    return query.where(User.organization_id == actor.organization_id)


def visible_patients(actor: Actor) -> Select[User]:
    """A SELECT of the patients ``actor`` may read."""
    return visible_users(actor).where(User.role == Role.PATIENT)


def may_manage(actor: Actor, target: User) -> bool:
    """Whether ``actor`` may change ``target``'s account and settings (email, notification
    settings, updateUser): themself, or, for providers and staff, a patient they see.

    ``target`` must come from :func:`visible_users`: this rule narrows what an actor sees, so a
    colleague's account stays their own.
    """
    return target.id == actor.user_id or (target.is_patient and not actor.is_patient)


def recipients_where(
    actor: Actor,
    recipient: SQLColumnExpression[int | None],
    *,
    patient_id: int | None,
    provider_id: int | None,
    org_level: bool,
) -> ColumnElement[bool]:
    """The condition on a ``recipient`` user id column (an outbox row's) for what ``actor`` may
    read of messages sent to people: a patient their own only (naming anyone else matches
    nothing); providers and staff their own, one patient they see, a provider's patients
    (primary or care team), or with ``org_level`` every patient of the organization."""
    if actor.is_patient:
        named_other = provider_id is not None or org_level
        named_other |= patient_id not in (None, actor.user_id)
        return false() if named_other else recipient == actor.user_id
    patients = visible_patients(actor)
    if provider_id is not None or org_level:
        if not org_level:
            care_team = select(CareTeamMember.patient_id).where(
                CareTeamMember.provider_id == provider_id
            )
            patients = patients.where(or_(User.dietitian_id == provider_id, User.id.in_(care_team)))
        return recipient.in_(patients.with_only_columns(User.id))
    if patient_id is None or patient_id == actor.user_id:
        return recipient == actor.user_id
    return recipient.in_(patients.where(User.id == patient_id).with_only_columns(User.id))


def sees_every_patient(actor: Actor) -> bool:
    """True when ``actor`` may read every patient of its organization (staff and providers).

    Rows that carry the organization and the role of a user (``search_tokens``) then decide
    visibility alone, without reading the user rows.
    """
    return not actor.is_patient


def visible_groups_where(
    actor: Actor,
    group_id: SQLColumnExpression[int],
    group_organization_id: SQLColumnExpression[int],
) -> ColumnElement[bool]:
    """The condition on a user group's id and organization columns for the groups ``actor``
    may read: a patient's own group, or any of the organization's.

    user_groups.queries builds its SELECTs on it (``visible_groups``).
    """
    same_organization = group_organization_id == actor.organization_id
    if actor.is_patient:
        own = select(User.user_group_id).where(User.id == actor.user_id).scalar_subquery()
        return and_(same_organization, group_id == own)
    return same_organization


class Disclosure(IntEnum):
    """How much of a user's record a viewer who reached it may read, least first.

    Row visibility (above) decides which users a caller reaches; a patient also reaches people
    through what is theirs: the members of their conversations, their providers, the owners of
    their tags. What they may read of those people is decided here, once for every path.
    """

    # The display name (first, last, full name) and the id: what a patient sees of another
    # patient they share a conversation with, and what an anonymous caller sees of anyone.
    NAME = 1
    # What a practice shows its patients of its providers and staff: the name, pronouns, time
    # zone and that they are not a patient; never their contact details, addresses or tags.
    PROFILE = 2
    # The whole record: one's own, or any of the organization's users for its providers and staff.
    RECORD = 3
    # The practice's own notes on a person (``quick_notes``): its providers and staff only, never
    # the person themselves, as Healthie shows quick notes in the provider's view alone.
    STAFF = 4


def disclosure(viewer: Actor | None, user: User) -> Disclosure:
    """What ``viewer`` may read of ``user``, a user they reached through a visible record."""
    if viewer is None or viewer.organization_id != user.organization_id:
        # Another organization's user is never reached; if it were, it shows no more than a name.
        return Disclosure.NAME
    if viewer.is_staff:
        return Disclosure.STAFF
    if viewer.user_id == user.id:
        return Disclosure.RECORD
    return Disclosure.NAME if user.is_patient else Disclosure.PROFILE


def viewer_signing_in(
    user: User, *, enrolling: bool = False, organization_zone: str | None = None
) -> Actor:
    """The viewer of an answer that signs ``user`` in (signIn, signUp): the user themselves.

    The request itself is anonymous; its answer is the caller's own record. ``enrolling``: the
    answer of an anonymous patient sign-up (see :func:`follows_links`). It reads date-times in
    the user's zone, else ``organization_zone`` (their organization's), else UTC.
    """
    return Actor(
        user_id=user.id,
        organization_id=user.organization_id,
        role=Role(user.role),
        enrolling=enrolling,
        zone=zone_of(user.timezone, organization_zone),
    )


def follows_links(viewer: Actor | None) -> bool:
    """Whether the answer may lead from a user to their links: providers, practice, group, ...

    Not the answer of an anonymous patient sign-up. Anyone may sign up naming any provider's
    sequential id (where the practice allows open sign-up), so that answer shows the new
    patient's own fields and nothing of the provider or the practice the id named; signed in
    with the token, the patient reads them as any patient does (issue 22, item 11).
    """
    return viewer is None or not viewer.enrolling
