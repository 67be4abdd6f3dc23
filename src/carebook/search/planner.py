"""The plan of a list: its keyword terms' access paths and its filters as SQL conditions.

Both ``search.page`` and ``search.count`` start from one :class:`Planned`, built from one
:class:`ListArgs`, so the count always agrees with the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlalchemy.ext.asyncio import AsyncSession

from carebook.auth.actor import Actor
from carebook.conversations.models import Conversation, ConversationMembership
from carebook.search.arguments import ListArgs
from carebook.search.ordering import PROVIDER
from carebook.search.state import SearchState
from carebook.search.terms import KeywordPlan, keyword_conditions
from carebook.search.text import parse_keywords
from carebook.tags.queries import tagged_with_any
from carebook.users.models import CareTeamMember, User


@dataclass(frozen=True)
class Planned:
    """The keyword plan and the other conditions (``filters``) of a list.

    ``conditions`` is the WHERE clause, ``driving`` whether a keyword drives it, and
    ``fallback`` the clause with the rarest keyword driving anyway, when only common keywords
    were given.
    """

    keywords: KeywordPlan
    filters: list[ColumnElement[bool]]

    @property
    def conditions(self) -> list[ColumnElement[bool]]:
        return [*self.keywords.conditions, *self.filters]

    @property
    def driving(self) -> bool:
        return self.keywords.driving

    @property
    def fallback(self) -> list[ColumnElement[bool]] | None:
        fallback = self.keywords.fallback
        return None if fallback is None else [*fallback, *self.filters]

    @property
    def counting(self) -> list[ColumnElement[bool]]:
        """The clause to count (or list every match) with: the rarest term drives.

        Counting visits every match anyway: starting from the rarest term's matches beats
        probing every patient of the practice.
        """
        fallback = self.fallback
        return fallback if fallback is not None else self.conditions


def _provider_condition(actor: Actor, args: ListArgs) -> ColumnElement[bool] | None:
    """``provider_id`` / ``limited_to_provider``; None means no narrowing."""
    if args.provider_id is None and not args.limited_to_provider:
        return None
    provider_id = args.provider_id if args.provider_id is not None else actor.user_id
    provider = PROVIDER
    # The named user must be a provider/staff member of the caller's organization: anything else
    # (another organization's id, a patient, an unknown id) has access to no patient here.
    is_staff = exists().where(
        provider.id == provider_id,
        provider.organization_id == actor.organization_id,
        provider.role.in_(("provider", "staff")),
    )
    if not args.limited_to_provider:
        return is_staff
    on_team = exists().where(
        CareTeamMember.patient_id == User.id, CareTeamMember.provider_id == provider_id
    )
    return and_(is_staff, or_(User.dietitian_id == provider_id, on_team))


def _conversation_condition(actor: Actor, conversation_id: int) -> ColumnElement[bool]:
    return exists().where(
        ConversationMembership.user_id == User.id,
        ConversationMembership.conversation_id == conversation_id,
        Conversation.id == ConversationMembership.conversation_id,
        Conversation.organization_id == actor.organization_id,
    )


def _filters(actor: Actor, args: ListArgs) -> list[ColumnElement[bool]]:
    """Every argument but the keywords as a condition on users."""
    conditions: list[ColumnElement[bool]] = []
    if args.active_status is not None:
        conditions.append(User.active.is_(args.active_status == "active"))
    if args.group_id is not None:
        conditions.append(User.user_group_id == args.group_id)
    if (provider := _provider_condition(actor, args)) is not None:
        conditions.append(provider)
    if args.conversation_id is not None:
        conditions.append(_conversation_condition(actor, args.conversation_id))
    if args.ids is not None:
        conditions.append(User.id.in_(list(args.ids)) if args.ids else false())
    if args.tag_ids:  # Healthie's default [] means no tag filter
        conditions.append(tagged_with_any(actor.organization_id, args.tag_ids))
    return conditions


async def plan(
    session: AsyncSession, state: SearchState, actor: Actor, args: ListArgs
) -> Planned | None:
    """The plan of the list's WHERE clause; None when the answer is empty by definition."""
    terms = parse_keywords(args.keywords)
    if not terms and not args.show_all_by_default:
        return None
    if args.expect_conversation_id and args.conversation_id is None:
        return None
    if args.only_with_card:  # Carebook stores no cards, so no patient has one on file
        return None
    keywords = await keyword_conditions(session, state, actor.organization_id, terms)
    return Planned(keywords, _filters(actor, args))
