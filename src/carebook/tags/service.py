"""Writes of tags: create, rename, delete, apply to users and remove from them.

Services take a session and an actor, flush but never commit (the request owns the
transaction), and raise :class:`carebook.errors.Invalid` for anything the caller got wrong.
Every user id goes through the actor's visibility scope; another organization's tags and users
answer exactly like missing ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor, require_staff
from carebook.db import lengths
from carebook.db.base import utcnow
from carebook.errors import FieldMessage, Invalid
from carebook.events.emit import Change, emit_all
from carebook.tags import queries
from carebook.tags.models import AppliedTag, Tag, Tagging
from carebook.users import queries as user_queries
from carebook.users import validation as v
from carebook.users.lookup import all_found, found
from carebook.users.models import User
from carebook.users.trail import record_ids, record_patients

T = TypeVar("T")

TAG_NOT_FOUND = "Tag not found"
USER_NOT_FOUND = "User not found"
NAME_TAKEN = "Name has already been taken"
MAX_TAG_NAME = lengths.TAG_NAME
APPLIED_TAG_CREATED = "applied_tag.created"
APPLIED_TAG_DELETED = "applied_tag.deleted"


async def _tag(session: AsyncSession, actor: Actor, raw_id: Any, field: str = "id") -> Tag:
    return await found(
        raw_id,
        lambda tag_id: queries.get_tag_in_org(session, actor.organization_id, tag_id),
        field=field,
        missing=TAG_NOT_FOUND,
    )


async def _taggable_user(session: AsyncSession, actor: Actor, raw_id: Any) -> User:
    """A user the actor may see: a patient of the organization, or one of its members."""
    return await found(
        raw_id,
        lambda user_id: user_queries.get_visible_user(session, actor, user_id),
        field="taggable_user_id",
        missing=USER_NOT_FOUND,
        blank="Taggable user can't be blank",
    )


async def _apply(session: AsyncSession, actor: Actor, user: User, tags: Sequence[Tag]) -> None:
    """Apply the tags not yet applied; applying a tag twice changes nothing.

    Each new application gets its record (``applied_tags``: id, time, who) next to the live
    tagging that the patient list filters on.
    """
    present = await queries.applied_tag_ids(session, user.id, [tag.id for tag in tags])
    new = [tag for tag in tags if tag.id not in present]
    session.add_all(Tagging(tag_id=tag.id, user_id=user.id) for tag in new)
    records = [
        AppliedTag(tag_id=tag.id, user_id=user.id, applied_by_id=actor.user_id) for tag in new
    ]
    session.add_all(records)
    await session.flush()
    # An application already there is not a new one: no event.
    await _emit_applied(
        session,
        APPLIED_TAG_CREATED,
        user.organization_id,
        [(r.id, tag.id, user.id) for r, tag in zip(records, new, strict=True)],
    )


async def _emit_applied(
    session: AsyncSession,
    event_type: str,
    organization_id: int,
    records: Sequence[tuple[int, int, int]],
) -> None:
    """The ``applied_tag.*`` events of these applications' records (``AppliedTag``: record id,
    tag id, user id), in the tagged users' organization (a tag and the users it is applied to
    share one), one INSERT. Healthie's event reference gives both events the extra fields
    ``tag_id`` and ``user_id`` (ids as strings, as it writes them)."""
    await emit_all(
        session,
        [
            Change(
                organization_id,
                event_type,
                record_id,
                extra={"tag_id": str(tag_id), "user_id": str(user_id)},
            )
            for record_id, tag_id, user_id in records
        ],
    )


async def _unapply(
    session: AsyncSession, *, organization_id: int, tag_id: int, user_id: int | None = None
) -> None:
    """Take a tag off one user (or, without ``user_id``, off everyone): the live tagging goes,
    its record stays, marked removed (``appliedTag(include_deleted: true)`` still reads it).
    Each record removed is an ``applied_tag.deleted``, its id read by the UPDATE itself."""
    now = utcnow()
    taggings = delete(Tagging).where(Tagging.tag_id == tag_id)
    records = update(AppliedTag).where(AppliedTag.tag_id == tag_id, AppliedTag.deleted_at.is_(None))
    if user_id is not None:
        taggings = taggings.where(Tagging.user_id == user_id)
        records = records.where(AppliedTag.user_id == user_id)
    await session.execute(taggings)
    removed = await session.execute(
        records.values(deleted_at=now, updated_at=now).returning(
            AppliedTag.id, AppliedTag.tag_id, AppliedTag.user_id
        )
    )
    rows = sorted((int(r.id), int(r.tag_id), int(r.user_id)) for r in removed)
    await _emit_applied(session, APPLIED_TAG_DELETED, organization_id, rows)


async def _lock_carriers(session: AsyncSession, actor: Actor, raw_id: Any) -> list[tuple[int, int]]:
    """(id, organization_id) of the patients carrying the tag, its row locked first.

    Locked before the change, so a patient tagged concurrently is either changed and recorded
    or refused (carebook.tags.queries.lock_tag_patients). A malformed or foreign id finds
    nobody; :func:`_tag` then refuses it with its own message.
    """
    try:
        tag_id = v.parse_id(raw_id, "id")
    except Invalid:
        return []
    if tag_id is None:
        return []
    return await queries.lock_tag_patients(session, actor=actor, tag_id=tag_id)


async def _unique_name(
    session: AsyncSession, owner_id: int, value: Any, exclude_id: int | None = None
) -> str:
    """A clean tag name that the owner does not have yet (in any case)."""
    clean = v.clean_label(value, MAX_TAG_NAME)
    if await queries.tag_name_taken(session, owner_id, v.name_key(clean), exclude_id):
        raise Invalid.field("name", NAME_TAKEN)
    return clean


async def _collect(work: Awaitable[T], problems: list[FieldMessage]) -> T | None:
    """The result of ``work``, or None with its messages added to ``problems``."""
    try:
        return await work
    except Invalid as error:
        problems.extend(error.messages)
        return None


async def create_tag(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str | None,
    taggable_user_id: str | int | None = None,
) -> Tag:
    """A tag owned by the actor, applied at once to ``taggable_user_id`` when given."""
    require_staff(actor)
    problems: list[FieldMessage] = []
    clean = await _collect(_unique_name(session, actor.user_id, name), problems)
    user = None
    if taggable_user_id not in (None, ""):
        user = await _collect(_taggable_user(session, actor, taggable_user_id), problems)
    if problems or clean is None:
        raise Invalid(*problems)
    tag = Tag(
        organization_id=actor.organization_id,
        user_id=actor.user_id,
        name=clean,
        name_key=v.name_key(clean),
    )
    session.add(tag)
    await session.flush()
    if user is not None:
        await _apply(session, actor, user, [tag])
        await record_patients(session, [user], action="update")
    return tag


async def update_tag(
    session: AsyncSession, *, actor: Actor, tag_id: str | int | None, name: str | None
) -> Tag:
    """Rename a tag of the organization; the name stays unique for the tag's owner.

    Every patient carrying it shows the new label: each is recorded as updated.
    """
    require_staff(actor)
    carriers = await _lock_carriers(session, actor, tag_id)
    tag = await _tag(session, actor, tag_id)
    clean = await _unique_name(session, tag.user_id, name, exclude_id=tag.id)
    tag.name, tag.name_key = clean, v.name_key(clean)
    await session.flush()
    await record_ids(session, carriers, action="update")
    return tag


async def delete_tag(session: AsyncSession, *, actor: Actor, tag_id: str | int | None) -> Tag:
    """Delete a tag and remove it from everyone who carries it; no user is deleted."""
    require_staff(actor)
    carriers = await _lock_carriers(session, actor, tag_id)
    tag = await _tag(session, actor, tag_id)
    # The foreign keys cascade too; doing it here keeps this independent of the pragma. The
    # records of its applications stay, removed and no longer naming the tag (SQLite may give
    # its id to a new tag).
    await _unapply(session, organization_id=tag.organization_id, tag_id=tag.id)
    await session.execute(update(AppliedTag).where(AppliedTag.tag_id == tag.id).values(tag_id=None))
    await session.delete(tag)
    await session.flush()
    await record_ids(session, carriers, action="update")
    return tag


async def bulk_apply(
    session: AsyncSession,
    *,
    actor: Actor,
    ids: Sequence[str | int],
    taggable_user_id: str | int | None,
    max_ids: int,
) -> list[Tag]:
    """Apply existing tags of the organization to one user, all or nothing."""
    require_staff(actor)
    tag_ids = v.parse_ids(
        ids, most=max_ids, too_many=f"At most {max_ids} tags can be applied at once"
    )
    user = await _taggable_user(session, actor, taggable_user_id)
    in_org = await queries.tags_in_org_by_ids(session, actor.organization_id, tag_ids)
    all_found(tag_ids, in_org, field="ids", label="Tags")
    tags = [in_org[tag_id] for tag_id in tag_ids]
    await _apply(session, actor, user, tags)
    await record_patients(session, [user], action="update")
    return tags


async def remove_applied_tag(
    session: AsyncSession,
    *,
    actor: Actor,
    tag_id: str | int | None,
    taggable_user_id: str | int | None,
) -> Tag:
    """Take a tag off a user; removing a tag the user does not carry changes nothing."""
    require_staff(actor)
    tag = await _tag(session, actor, tag_id)
    user = await _taggable_user(session, actor, taggable_user_id)
    await _unapply(session, organization_id=user.organization_id, tag_id=tag.id, user_id=user.id)
    await session.flush()
    await record_patients(session, [user], action="update")
    return tag
